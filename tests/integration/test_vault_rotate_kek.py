"""``aether vault rotate-kek`` as an operator runs it: every data key re-wrapped under the new
KEK, one transaction per credential, resumable after an interruption or a failure."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from aether.audit.keys import AuditKey
from aether.security import vault
from aether.security.kek import Kek, KekRing
from tests.conftest import Seed
from tests.integration.vault_helpers import audit_actions, vault_session

OLD, NEW = os.urandom(32), os.urandom(32)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


async def rotate_kek(
    db_url: str, data_dir: Path, *args: str, previous: bool = True
) -> tuple[int, str]:
    env = {
        **os.environ,
        "AETHER_DATABASE_URL": db_url,
        "AETHER_CREDENTIAL_ENCRYPTION_KEY": b64(NEW),
    }
    env.pop("AETHER_CREDENTIAL_ENCRYPTION_PREVIOUS_KEY", None)
    if previous:
        env["AETHER_CREDENTIAL_ENCRYPTION_PREVIOUS_KEY"] = b64(OLD)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aether.cli",
        "vault",
        "rotate-kek",
        "--data-dir",
        str(data_dir),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, " ".join(out.decode().split())


async def kek_ids(pg: asyncpg.Connection) -> dict[uuid.UUID, str]:
    rows = await pg.fetch("SELECT account_id, kek_id FROM kraken_credentials")
    return {r["account_id"]: r["kek_id"] for r in rows}


async def test_rotate_kek_rewraps_everything_and_resumes(
    aether_db_url: str,
    aether_seed: Seed,
    aether_pg: asyncpg.Connection,
    aether_audit_key: AuditKey,
    tmp_path: Path,
) -> None:
    accounts = [aether_seed.company, aether_seed.alice_account, aether_seed.bob_account]
    pairs = {
        a: vault.KrakenCredentials(f"key-{i}-" + "k" * 30, b64(os.urandom(64)))
        for i, a in enumerate(accounts)
    }
    async with vault_session(aether_db_url, aether_audit_key, KekRing(Kek(OLD))) as session:
        for account, pair in pairs.items():
            await vault.store(
                session,
                account,
                pair,
                permissions=["query_funds"],
                validated_at=datetime.now(UTC),
                actor="system:test",
            )
        await session.commit()
    old_id, new_id = Kek(OLD).kek_id, Kek(NEW).kek_id
    before = await aether_pg.fetch("SELECT account_id, ciphertext FROM kraken_credentials")

    # Without the previous KEK nothing can be re-wrapped: exit 1, each failure named, no change.
    code, out = await rotate_kek(aether_db_url, tmp_path, previous=False)
    assert code == 1, out
    assert all(str(a) in out for a in accounts)
    assert set((await kek_ids(aether_pg)).values()) == {old_id}

    # Interrupted after two rows; the next run finishes; a third has nothing left to do.
    code, out = await rotate_kek(aether_db_url, tmp_path, "--limit", "2")
    assert code == 0, out
    assert f"re-wrapped 2 credential(s) under {new_id}; 1 left to do" in out
    assert sorted((await kek_ids(aether_pg)).values()) == sorted([new_id, new_id, old_id])
    code, out = await rotate_kek(aether_db_url, tmp_path)
    assert code == 0, out
    assert "re-wrapped 1 credential(s)" in out
    assert "0 left to do" in out
    code, out = await rotate_kek(aether_db_url, tmp_path)
    assert "re-wrapped 0 credential(s)" in out

    assert set((await kek_ids(aether_pg)).values()) == {new_id}
    after = await aether_pg.fetch("SELECT account_id, ciphertext FROM kraken_credentials")
    assert sorted(map(tuple, after)) == sorted(map(tuple, before))  # payloads untouched
    assert (await audit_actions(aether_pg)).count("credential.rewrapped") == 3
    # The old KEK can be retired: everything opens with the new one alone.
    async with vault_session(aether_db_url, aether_audit_key, KekRing(Kek(NEW))) as session:
        for account, pair in pairs.items():
            assert await vault.credentials_for(session, account) == pair
