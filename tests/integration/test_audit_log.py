"""The audit log is append-only at the database, chained, and its verifier finds tampering.

More tampering, by the run-time role and by the owner, is in test_audit_tamper.py."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit import log as audit
from aether.audit.keys import AuditKey, audit_session_info
from aether.storage.database import create_engine, session_factory


async def _cli(*args: str, database_url: str, data_dir: Path) -> tuple[int, str]:
    """Run the real ``aether`` command in a subprocess (this run's audit key is in the
    environment); returns exit code and all output."""
    env = {**os.environ, "AETHER_DATABASE_URL": database_url}
    args = (*args, "--data-dir", str(data_dir))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aether.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def _append_many(session: AsyncSession, count: int, actor: str = "system:test") -> None:
    for i in range(count):
        await audit.append(session, actor=actor, action="test.event", details={"i": i})
    await session.commit()


STATEMENTS = [
    "UPDATE audit_log SET actor = 'someone else' WHERE seq = 2",
    "DELETE FROM audit_log WHERE seq = 2",
    "TRUNCATE audit_log",
]


@pytest.mark.parametrize("statement", STATEMENTS)
async def test_the_runtime_role_may_not_rewrite_history(
    aether_session: AsyncSession, statement: str
) -> None:
    await _append_many(aether_session, 3)
    with pytest.raises(DBAPIError, match="permission denied for table audit_log"):
        await aether_session.execute(text(statement))
    await aether_session.rollback()
    assert await aether_session.scalar(text("SELECT count(*) FROM audit_log")) == 3


@pytest.mark.parametrize("statement", STATEMENTS)
async def test_the_triggers_refuse_even_the_owner(
    aether_session: AsyncSession, aether_owner_session: AsyncSession, statement: str
) -> None:
    await _append_many(aether_session, 3)
    with pytest.raises(DBAPIError, match="append-only"):
        await aether_owner_session.execute(text(statement))
    await aether_owner_session.rollback()
    assert await aether_session.scalar(text("SELECT count(*) FROM audit_log")) == 3


async def test_chain_verifies_and_tampering_is_pinned_to_the_row(
    aether_session: AsyncSession,
    aether_owner_session: AsyncSession,
    aether_db_url: str,
    tmp_path: Path,
) -> None:
    await _append_many(aether_session, 6)
    result = await audit.verify(aether_session)
    assert (result.ok, result.rows) == (True, 6)

    code, output = await _cli("audit", "verify", database_url=aether_db_url, data_dir=tmp_path)
    assert code == 0, output
    assert "6 rows" in output

    # An attacker with owner rights disables the trigger and edits row 4.
    await aether_owner_session.execute(
        text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    )
    await aether_owner_session.execute(
        text("UPDATE audit_log SET details = '{\"i\": 999}'::jsonb WHERE seq = 4")
    )
    await aether_owner_session.execute(
        text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete")
    )
    await aether_owner_session.commit()

    result = await audit.verify(aether_session)
    assert result.ok is False
    assert result.first_break is not None
    assert result.first_break.seq == 4
    assert result.rows == 3

    code, output = await _cli("audit", "verify", database_url=aether_db_url, data_dir=tmp_path)
    assert code == 1
    assert "seq 4" in output


async def test_deleted_row_is_reported_as_a_gap(
    aether_session: AsyncSession, aether_owner_session: AsyncSession
) -> None:
    await _append_many(aether_session, 4)
    await aether_owner_session.execute(
        text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
    )
    await aether_owner_session.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    await aether_owner_session.commit()
    result = await audit.verify(aether_session)
    assert result.first_break is not None
    assert result.first_break.seq == 3
    assert "gap" in result.first_break.reason


async def test_concurrent_writers_produce_one_unbroken_chain(
    aether_db_url: str, aether_audit_key: AuditKey
) -> None:
    engine = create_engine(aether_db_url, pool_size=8)
    sessions = session_factory(engine, info=audit_session_info(aether_audit_key))

    async def writer(n: int) -> None:
        for i in range(15):
            async with sessions() as session:
                await audit.append(
                    session, actor=f"system:writer{n}", action="test.concurrent", details={"i": i}
                )
                await session.commit()

    try:
        await asyncio.gather(*(writer(n) for n in range(8)))
        async with sessions() as session:
            result = await audit.verify(session)
    finally:
        await engine.dispose()
    assert (result.ok, result.rows) == (True, 120)


async def test_rolled_back_change_leaves_no_audit_row(aether_session: AsyncSession) -> None:
    await audit.append(aether_session, actor="system:test", action="test.rolled_back")
    await aether_session.rollback()
    await _append_many(aether_session, 1)
    result = await audit.verify(aether_session)
    assert (result.ok, result.rows) == (True, 1)
