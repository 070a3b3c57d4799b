"""Write signed checkpoints of the chain head: on demand, and periodically in the API process.

A checkpoint is written only over a head that still holds: its HMAC matches, no row is missing
and the row at the last checkpoint's seq still carries that checkpoint's hash. Otherwise the
write is refused (CheckpointRefusedError), so tampering is never anchored as the new truth.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.audit import checkpoints
from aether.audit.chain import check_link
from aether.audit.checkpoints import Checkpoint, CheckpointLogError
from aether.audit.keys import session_key
from aether.audit.log import AuditTableMissingError, entry_of, require_table, tail_break
from aether.ops.tasks import stop_task
from aether.storage.tables import AuditRow

log = structlog.get_logger("aether.audit")


class CheckpointRefusedError(RuntimeError):
    """The chain no longer matches what was checkpointed, or its head does not verify."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def _check_head(session: AsyncSession, head: AuditRow, rows: int) -> None:
    entry = entry_of(head)
    broken = check_link(entry, head.seq, head.prev_hash, session_key(session).row_key)
    if broken is not None:
        raise CheckpointRefusedError(f"head row seq {head.seq}: {broken.reason}")
    if rows != head.seq:
        raise CheckpointRefusedError(
            f"audit_log holds {rows} rows but its head is seq {head.seq}: rows are missing"
        )


async def write_checkpoint(
    session: AsyncSession, path: Path, *, clock: Callable[[], datetime] = _utc_now
) -> Checkpoint | None:
    """Append a checkpoint of the current head to ``path``; the last one if the head has not
    moved since; None while the chain is empty and was never checkpointed."""
    key = session_key(session)
    database = await require_table(session)
    last = checkpoints.last(path, key)
    if last is not None and last.database != database:
        raise CheckpointRefusedError(
            f"{path} holds checkpoints of database {last.database!r}, not {database!r}"
        )
    head = await session.scalar(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1))
    rows = int(await session.scalar(select(func.count()).select_from(AuditRow)) or 0)
    head_seq = head.seq if head is not None else 0
    if last is not None:
        if head_seq < last.seq:
            raise CheckpointRefusedError(tail_break(last, head_seq).reason)
        then = await session.scalar(select(AuditRow.hash).where(AuditRow.seq == last.seq))
        if then != last.hash:
            raise CheckpointRefusedError(
                f"seq {last.seq} no longer carries the hash of {last.describe()}: history was "
                "rewritten, or the chain restarted from genesis"
            )
    if head is None:
        return None
    await _check_head(session, head, rows)
    if last is not None and head.seq == last.seq:
        return last
    checkpoint = Checkpoint(database, head.seq, head.hash, rows, clock().astimezone(UTC))
    checkpoints.append(path, checkpoint, key)
    return checkpoint


class CheckpointWriter:
    """Checkpoints the head at start, every ``interval`` seconds and at stop; a failure is
    logged (a refusal as an error: it means tampering) and the next round tries again."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], path: Path, interval: float
    ) -> None:
        self.sessions = sessions
        self.path = path
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def write_once(self, timeout: float = 10.0) -> Checkpoint | None:
        try:
            async with asyncio.timeout(timeout), self.sessions() as session:
                return await write_checkpoint(session, self.path)
        except (CheckpointRefusedError, CheckpointLogError, AuditTableMissingError) as exc:
            log.error("audit checkpoint refused", reason=str(exc), path=str(self.path))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("audit checkpoint not written", error=type(exc).__name__)
        return None

    async def _run(self) -> None:
        while True:
            await self.write_once()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-checkpoints")

    async def stop(self) -> None:
        """Stop the schedule and write one last checkpoint (bounded, never raises)."""
        task, self._task = self._task, None
        await stop_task(task)
        await self.write_once(timeout=5.0)
