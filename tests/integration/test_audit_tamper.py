"""An attacker with the owner's rights rewrites, truncates, wipes or drops the audit log:
`aether audit verify` names each one (the HMAC key and the signed checkpoints are out of the
database's reach), and /readyz reports the audit log not ready when its table or triggers go."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from aether.api.app import create_app
from aether.audit import checkpoints
from aether.audit import log as audit
from aether.audit.chain import GENESIS_HASH, canonical
from aether.audit.checkpointer import CheckpointRefusedError, write_checkpoint
from aether.audit.keys import AuditKey
from aether.ops.endpoints import ServerUrls
from aether.settings import Settings


async def _verify_cli(database_url: str, data_dir: Path) -> tuple[int, str]:
    """``aether audit verify`` as an operator runs it, as the run-time role."""
    return await _cli("audit", "verify", database_url=database_url, data_dir=data_dir)


async def _cli(*args: str, database_url: str, data_dir: Path) -> tuple[int, str]:
    env = {**os.environ, "AETHER_DATABASE_URL": database_url}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aether.cli",
        *args,
        "--data-dir",
        str(data_dir),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, " ".join(out.decode().split())  # rich wraps long lines


async def _append(session: AsyncSession, count: int) -> None:
    for i in range(count):
        await audit.append(session, actor="system:test", action="test.event", details={"i": i})
    await session.commit()


async def _unprotected(owner: asyncpg.Connection, statement: str) -> None:
    """Run ``statement`` with the refuse-change triggers off, as the owner may."""
    async with owner.transaction():
        await owner.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        await owner.execute(statement)
        await owner.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


async def _rewrite_with_plain_hashes(owner: asyncpg.Connection, seq: int) -> None:
    """Change row ``seq``'s details and re-chain it and every later row with the unkeyed
    SHA-256 the table's own format suggests: all an attacker without the key can do."""
    rows = await owner.fetch("SELECT * FROM audit_log ORDER BY seq")
    prev = GENESIS_HASH
    async with owner.transaction():
        await owner.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        for row in rows:
            details = json.loads(row["details"])
            if row["seq"] == seq:
                details = {"i": 999}
            if row["seq"] >= seq:
                body = canonical(
                    row["seq"], row["ts"], row["actor"], row["account_id"], row["action"], details
                )
                digest = hashlib.sha256(prev.encode() + b"\n" + body).hexdigest()
                await owner.execute(
                    "UPDATE audit_log SET details = $1::jsonb, prev_hash = $2, hash = $3 "
                    "WHERE seq = $4",
                    json.dumps(details),
                    prev,
                    digest,
                    row["seq"],
                )
                prev = digest
            else:
                prev = row["hash"]
        await owner.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


async def test_a_row_rewritten_with_a_recomputed_hash_fails_its_hmac(
    aether_session: AsyncSession,
    aether_owner_pg: asyncpg.Connection,
    aether_db_url: str,
    tmp_path: Path,
) -> None:
    await _append(aether_session, 5)
    await _rewrite_with_plain_hashes(aether_owner_pg, 3)
    code, output = await _verify_cli(aether_db_url, tmp_path)
    assert code == 1, output
    assert "broken at seq 3: HMAC mismatch" in output
    assert "2 rows before it are intact" in output
    assert "Traceback" not in output


async def test_a_deleted_tail_is_found_by_the_checkpoint(
    aether_session: AsyncSession,
    aether_owner_pg: asyncpg.Connection,
    aether_db_url: str,
    tmp_path: Path,
) -> None:
    await _append(aether_session, 5)
    code, output = await _cli("audit", "checkpoint", database_url=aether_db_url, data_dir=tmp_path)
    assert code == 0, output
    assert "seq 5, 5 rows" in output
    code, output = await _verify_cli(aether_db_url, tmp_path)
    assert code == 0, output
    assert "5 rows, held to 1 signed checkpoint" in output

    await _unprotected(aether_owner_pg, "DELETE FROM audit_log WHERE seq > 3")
    code, output = await _verify_cli(aether_db_url, tmp_path)
    assert code == 1, output
    assert "the chain ends at seq 3 but the checkpoint of" in output
    assert "recorded seq 5" in output
    assert "rows 4..5 were deleted from the tail" in output
    # Nor can the platform be made to anchor the shortened chain as the new truth.
    code, output = await _cli("audit", "checkpoint", database_url=aether_db_url, data_dir=tmp_path)
    assert code == 1
    assert "deleted from the tail" in output


async def test_a_wiped_table_and_a_restarted_chain_are_found_by_the_checkpoint(
    aether_session: AsyncSession,
    aether_owner_pg: asyncpg.Connection,
    aether_db_url: str,
    aether_settings: Settings,
) -> None:
    path = aether_settings.audit_checkpoint_file
    data_dir = aether_settings.data_dir
    await _append(aether_session, 4)
    written = await write_checkpoint(aether_session, path)
    await aether_session.rollback()  # ends the read, so the owner's TRUNCATE gets its lock
    assert written is not None
    assert (written.seq, written.rows) == (4, 4)

    await _unprotected(aether_owner_pg, "TRUNCATE audit_log")
    code, output = await _verify_cli(aether_db_url, data_dir)
    assert code == 1, output
    assert "audit_log is empty but the checkpoint of" in output
    assert "recorded seq 4" in output
    assert "the table was wiped" in output

    # The platform writes on into the wiped table: a new chain from genesis, valid HMACs.
    await _append(aether_session, 2)
    code, output = await _verify_cli(aether_db_url, data_dir)
    assert code == 1
    assert "the chain ends at seq 2" in output
    await _append(aether_session, 3)
    code, output = await _verify_cli(aether_db_url, data_dir)
    assert code == 1
    assert "broken at seq 4: hash differs from the checkpoint of" in output
    assert "restarted from genesis" in output
    with pytest.raises(CheckpointRefusedError, match="seq 4 no longer carries the hash"):
        await write_checkpoint(aether_session, path)


async def test_a_dropped_table_is_a_clear_error_not_a_traceback(
    aether_session: AsyncSession,
    aether_owner_pg: asyncpg.Connection,
    aether_db_url: str,
    tmp_path: Path,
) -> None:
    await _append(aether_session, 2)
    await aether_owner_pg.execute("DROP TABLE audit_log")
    code, output = await _verify_cli(aether_db_url, tmp_path)
    assert code == 1
    assert "has no audit_log table: it was dropped" in output
    assert "Traceback" not in output


async def test_a_forged_checkpoint_line_is_refused(
    aether_session: AsyncSession, aether_db_url: str, aether_settings: Settings
) -> None:
    path = aether_settings.audit_checkpoint_file
    await _append(aether_session, 2)
    checkpoint = await write_checkpoint(aether_session, path)
    assert checkpoint is not None
    line = path.read_text().replace('"seq": 2', '"seq": 1')
    path.write_text(line)
    code, output = await _verify_cli(aether_db_url, aether_settings.data_dir)
    assert code == 1
    assert "line 1: signature does not match" in output


async def test_the_api_process_checkpoints_the_head_while_it_runs_and_when_it_stops(
    aether_settings: Settings,
    aether_urls: ServerUrls,
    aether_session: AsyncSession,
    aether_audit_key: AuditKey,
) -> None:
    await _append(aether_session, 3)
    app = create_app(aether_settings, aether_urls)
    async with app.router.lifespan_context(app):
        path = aether_settings.audit_checkpoint_file
        async with asyncio.timeout(15):
            while not checkpoints.read_log(path, aether_audit_key):
                await asyncio.sleep(0.05)
        await _append(aether_session, 2)
    written = checkpoints.read_log(path, aether_audit_key)
    assert [c.seq for c in written] == [3, 5]
    result = await audit.verify(aether_session, checkpoints=written)
    assert (result.ok, result.rows, result.checkpoints) == (True, 5, 2)


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        ("DROP TABLE audit_log", "table audit_log is missing"),
        ("DROP FUNCTION audit_log_refuse_change() CASCADE", "audit_log_no_update_delete"),
        ("DROP TRIGGER audit_log_no_truncate ON audit_log", "audit_log_no_truncate"),
        ("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete", "disabled"),
    ],
)
async def test_readyz_names_the_audit_log_without_its_table_or_triggers(
    aether_api: httpx.AsyncClient, aether_owner_pg: asyncpg.Connection, damage: str, named: str
) -> None:
    before = await aether_api.get("/readyz")
    assert before.status_code == 200, before.text
    assert before.json()["checks"]["audit_log"]["ok"] is True
    await aether_owner_pg.execute(damage)
    response = await aether_api.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["audit_log"]
    assert named in body["checks"]["audit_log"]["detail"]
