"""Append to, read and verify the audit log in PostgreSQL.

Appends take a transaction-scoped advisory lock, so concurrent writers (any number of
processes) still produce one unbroken chain; the entry commits or rolls back together with the
change it records, because it is written in the caller's session. Hashes are keyed with the
audit key the session carries (:mod:`aether.audit.keys`); verification also holds the chain to
the signed checkpoints kept outside the database (:mod:`aether.audit.checkpoints`).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit.chain import (
    GENESIS_HASH,
    AuditEntry,
    ChainBreak,
    chain_hash,
    check_link,
    normalise_details,
)
from aether.audit.checkpoints import Checkpoint
from aether.audit.keys import session_key
from aether.storage.tables import AuditRow

# Arbitrary, fixed key for pg_advisory_xact_lock: "audit" in ASCII.
_AUDIT_LOCK_KEY = 0x6175646974

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    account_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
    clock: Clock = _utc_now,
) -> AuditEntry:
    """Append one entry inside the caller's transaction; the caller commits.

    ``actor`` is ``user:<name>`` or ``system:<component>``. ``details`` must be JSON-encodable
    (Decimal, UUID and datetime are written as text) and must never hold secrets.
    """
    key = session_key(session)  # before anything is written: no key, no entry
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _AUDIT_LOCK_KEY})
    last = (
        await session.execute(
            select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
        )
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS_HASH)
    ts = clock().astimezone(UTC)
    clean = normalise_details(details or {})
    digest = chain_hash(key.row_key, prev_hash, seq, ts, actor, account_id, action, clean)
    session.add(
        AuditRow(
            seq=seq,
            ts=ts,
            actor=actor,
            account_id=account_id,
            action=action,
            details=clean,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    await session.flush()
    return AuditEntry(seq, ts, actor, account_id, action, clean, prev_hash, digest)


def entry_of(row: AuditRow) -> AuditEntry:
    """A stored row as the chain sees it."""
    return AuditEntry(
        seq=row.seq,
        ts=row.ts,
        actor=row.actor,
        account_id=row.account_id,
        action=row.action,
        details=row.details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class AuditTableMissingError(RuntimeError):
    """The audit_log table does not exist (dropped, or the database was never migrated)."""


async def require_table(session: AsyncSession) -> str:
    """The database's name; AuditTableMissingError when it has no audit_log table."""
    row = (await session.execute(text("SELECT current_database(), to_regclass('audit_log')"))).one()
    if row[1] is None:
        raise AuditTableMissingError(
            f"database {row[0]!r} has no audit_log table: it was dropped, or the database was "
            "never migrated (`aether db upgrade`)"
        )
    return str(row[0])


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    rows: int
    first_break: ChainBreak | None
    checkpoints: int = 0  # signed checkpoints the chain was held to


async def _all_entries(session: AsyncSession, batch: int) -> AsyncIterator[AuditEntry]:
    after = 0
    while True:
        rows = (
            await session.scalars(
                select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(batch)
            )
        ).all()
        if not rows:
            return
        for row in rows:
            yield entry_of(row)
        after = rows[-1].seq
        session.expunge_all()


def _foreign(checkpoints: Sequence[Checkpoint], database: str) -> ChainBreak | None:
    for checkpoint in checkpoints:
        if checkpoint.database != database:
            return ChainBreak(
                checkpoint.seq,
                f"{checkpoint.describe()} is of database {checkpoint.database!r}, not "
                f"{database!r}: this checkpoint log belongs to another database",
            )
    return None


def tail_break(checkpoint: Checkpoint, rows: int) -> ChainBreak:
    """The chain ends before a seq a checkpoint proves existed."""
    anchor = f"{checkpoint.describe()} recorded seq {checkpoint.seq} (hash {checkpoint.hash})"
    if rows == 0:
        return ChainBreak(checkpoint.seq, f"audit_log is empty but {anchor}: the table was wiped")
    return ChainBreak(
        checkpoint.seq,
        f"the chain ends at seq {rows} but {anchor}: rows {rows + 1}..{checkpoint.seq} were "
        "deleted from the tail (or the table was wiped and a new chain started)",
    )


async def verify(
    session: AsyncSession,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Walk the whole chain in order and hold it to ``checkpoints``; stop at the first break.

    Each row must continue the sequence, link to its predecessor and match its HMAC under the
    session's audit key; the row at each checkpoint's seq must carry the checkpointed hash; and
    the chain must reach the highest checkpointed seq. Raises AuditTableMissingError when the
    table is gone.
    """
    key = session_key(session)
    database = await require_table(session)
    foreign = _foreign(checkpoints, database)
    if foreign is not None:
        return VerifyResult(ok=False, rows=0, first_break=foreign)
    anchors = sorted(checkpoints, key=lambda c: c.seq)
    checked, next_anchor = len(anchors), 0
    expected_seq, expected_prev, count = 1, GENESIS_HASH, 0
    async for entry in _all_entries(session, batch):
        broken = check_link(entry, expected_seq, expected_prev, key.row_key)
        while broken is None and next_anchor < checked and anchors[next_anchor].seq <= entry.seq:
            anchor = anchors[next_anchor]
            next_anchor += 1
            if anchor.seq == entry.seq and anchor.hash != entry.hash:
                broken = ChainBreak(
                    entry.seq,
                    f"hash differs from {anchor.describe()}: history up to seq "
                    f"{entry.seq} was rewritten, or the chain restarted from genesis",
                )
        if broken is not None:
            return VerifyResult(ok=False, rows=count, first_break=broken, checkpoints=checked)
        count += 1
        expected_seq, expected_prev = entry.seq + 1, entry.hash
        if progress is not None and count % batch == 0:
            progress(count)
    if next_anchor < checked:
        broken = tail_break(anchors[-1], count)
        return VerifyResult(ok=False, rows=count, first_break=broken, checkpoints=checked)
    return VerifyResult(ok=True, rows=count, first_break=None, checkpoints=checked)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters for :func:`query`. ``account_ids`` limits rows to those accounts;
    ``include_global`` adds rows with no account (platform-wide actions)."""

    account_ids: frozenset[uuid.UUID] | None = None
    include_global: bool = False
    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_seq: int = 0
    limit: int = 100


def _filtered(q: AuditQuery) -> Select[AuditRow]:
    stmt = select(AuditRow).where(AuditRow.seq > q.after_seq)
    if q.account_ids is not None:
        scoped = AuditRow.account_id.in_(q.account_ids)
        stmt = stmt.where(scoped | AuditRow.account_id.is_(None) if q.include_global else scoped)
    elif not q.include_global:
        stmt = stmt.where(AuditRow.account_id.is_not(None))
    if q.action is not None:
        stmt = stmt.where(AuditRow.action == q.action)
    if q.actor is not None:
        stmt = stmt.where(AuditRow.actor == q.actor)
    if q.since is not None:
        stmt = stmt.where(AuditRow.ts >= q.since)
    if q.until is not None:
        stmt = stmt.where(AuditRow.ts < q.until)
    return stmt.order_by(AuditRow.seq).limit(q.limit)


async def query(session: AsyncSession, q: AuditQuery) -> list[AuditEntry]:
    """Entries matching ``q`` in sequence order (page with ``after_seq``)."""
    return [entry_of(row) for row in (await session.scalars(_filtered(q))).all()]
