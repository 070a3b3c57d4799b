"""Account leases in PostgreSQL: each account is run by exactly one runner process at a time.

Rules:

* Time is the database's (``statement_timestamp()``, ``clock_timestamp()``), never a
  process's clock, so clock skew between machines cannot make two holders.
* A lease is taken only while free or expired, in one statement (``INSERT ... ON CONFLICT DO
  UPDATE ... WHERE expired``): of any number of racing runners exactly one wins.
* Every new tenure raises the account's ``fencing_token``; lease rows are never deleted (a
  release only ends the lease), so an account's token never goes back.
* Only the current holder with the current token renews, and only before expiry. A failed
  renewal (:class:`LeaseLost`) means: stop trading the account at once.
* A writer acting for an account calls :func:`check_fence` inside its own transaction: it
  share-locks the lease row until that transaction ends, so no runner can take the account
  between the check and the commit.
* Run acquire, renew, release and claim in a short transaction of their own and commit at
  once: an uncommitted lease is no lease, and its row lock holds the other runners up.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

#: How long a lease lasts without renewal. A dead runner's accounts move after at most
#: ``LEASE_TTL + CLAIM_POLL`` (13 s; the platform promises 15 s).
LEASE_TTL = timedelta(seconds=10)
#: How often a holder renews: three chances before its lease runs out.
RENEW_EVERY = LEASE_TTL / 3
#: How often a runner looks for accounts no live lease covers.
CLAIM_POLL = timedelta(seconds=3)

_HOLDER_MAX = 200  # account_leases.holder is VARCHAR(200)

_RETURNING = "RETURNING account_id, holder, fencing_token, expires_at, acquired_at"

# A new tenure starts at token 1, or at the previous token + 1 when the row exists: the only
# way the token changes. statement_timestamp() is one instant for the whole statement, and
# fresh for every statement of a transaction (unlike now()).
_TAKE = """
INSERT INTO account_leases AS l
    (account_id, holder, fencing_token, expires_at, acquired_at, renewed_at)
SELECT a.id, :holder, 1, statement_timestamp() + CAST(:ttl AS interval),
       statement_timestamp(), statement_timestamp()
FROM accounts AS a
{candidates}
ON CONFLICT (account_id) DO UPDATE SET
    holder = EXCLUDED.holder,
    fencing_token = CASE WHEN l.expires_at <= statement_timestamp()
                         THEN l.fencing_token + 1 ELSE l.fencing_token END,
    expires_at = EXCLUDED.expires_at,
    acquired_at = CASE WHEN l.expires_at <= statement_timestamp()
                       THEN EXCLUDED.acquired_at ELSE l.acquired_at END,
    renewed_at = EXCLUDED.renewed_at
WHERE {takeable}
"""

_ACQUIRE = (
    _TAKE.format(
        candidates="WHERE a.id = :account_id",
        # The holder's own live lease is extended under the same token (acquire is idempotent).
        takeable="l.expires_at <= statement_timestamp() OR l.holder = EXCLUDED.holder",
    )
    + _RETURNING
)

# Locks are taken in one order (created_at, id) by every runner, so two claims never deadlock.
_CLAIM = (
    _TAKE.format(
        candidates="""
LEFT JOIN account_leases AS held ON held.account_id = a.id
WHERE a.status = 'active'
  AND (held.account_id IS NULL OR held.expires_at <= statement_timestamp())
ORDER BY a.created_at, a.id
LIMIT :limit""",
        takeable="l.expires_at <= statement_timestamp()",
    )
    + _RETURNING
)

_RENEW = (
    """
UPDATE account_leases
SET expires_at = statement_timestamp() + CAST(:ttl AS interval),
    renewed_at = statement_timestamp()
WHERE account_id = :account_id AND holder = :holder AND fencing_token = :token
  AND expires_at > statement_timestamp()
"""
    + _RETURNING
)

_RELEASE = """
UPDATE account_leases SET expires_at = statement_timestamp()
WHERE account_id = :account_id AND holder = :holder AND fencing_token = :token
  AND expires_at > statement_timestamp()
RETURNING account_id
"""

_CURRENT = """
SELECT account_id, holder, fencing_token, expires_at, acquired_at,
       expires_at > clock_timestamp() AS live
FROM account_leases WHERE account_id = :account_id
"""


@dataclass(frozen=True, slots=True)
class Lease:
    """One tenure of one account: ``holder`` runs it under ``token`` until ``expires_at``
    (the database's time when it was taken or last renewed)."""

    account_id: uuid.UUID
    holder: str
    token: int
    expires_at: datetime
    acquired_at: datetime


class LeaseLost(Exception):
    """The caller does not hold the account's lease (any more): stop trading it at once."""

    def __init__(self, account_id: uuid.UUID, reason: str) -> None:
        super().__init__(f"account {account_id}: {reason}")
        self.account_id = account_id
        self.reason = reason


def new_holder_id() -> str:
    """A holder id for this process: host, pid and a random part, unique per process start."""
    host = socket.gethostname()[:150]
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _check_holder(holder: str) -> None:
    if not holder or len(holder) > _HOLDER_MAX:
        raise ValueError(f"holder: must be 1 to {_HOLDER_MAX} characters, got {len(holder)}")


def _check_ttl(ttl: timedelta) -> None:
    if ttl <= timedelta(0):
        raise ValueError(f"ttl: must be positive, got {ttl}")


def _lease(row: Any) -> Lease:
    return Lease(row.account_id, row.holder, row.fencing_token, row.expires_at, row.acquired_at)


async def acquire(
    session: AsyncSession, holder: str, account_id: uuid.UUID, ttl: timedelta = LEASE_TTL
) -> Lease | None:
    """Take ``account_id``'s lease for ``ttl`` if it is free or expired; ``None`` if another
    holder has it. The holder's own live lease is extended under the same token.

    Raises ``LookupError`` for an unknown account. Commit at once (module rules).
    """
    _check_holder(holder)
    _check_ttl(ttl)
    params = {"holder": holder, "account_id": account_id, "ttl": ttl}
    row = (await session.execute(text(_ACQUIRE), params)).one_or_none()
    if row is not None:
        return _lease(row)
    found = await session.execute(
        text("SELECT 1 FROM accounts WHERE id = :account_id"), {"account_id": account_id}
    )
    if found.one_or_none() is None:
        raise LookupError(f"account_id: no account {account_id}")
    return None


async def claim_free_accounts(
    session: AsyncSession, holder: str, ttl: timedelta = LEASE_TTL, limit: int = 1000
) -> list[Lease]:
    """Take the lease of up to ``limit`` active accounts that no live lease covers.

    Racing claims never share an account: each one a loser finds taken is skipped, to be looked
    at again on the next poll. Commit at once (module rules).
    """
    _check_holder(holder)
    _check_ttl(ttl)
    if limit < 1:
        raise ValueError(f"limit: must be at least 1, got {limit}")
    result = await session.execute(text(_CLAIM), {"holder": holder, "ttl": ttl, "limit": limit})
    return sorted((_lease(row) for row in result), key=lambda lease: str(lease.account_id))


async def renew(session: AsyncSession, lease: Lease, ttl: timedelta = LEASE_TTL) -> Lease:
    """Extend ``lease`` by ``ttl`` from now (database time); the same tenure and token.

    Raises :class:`LeaseLost` when the lease expired, was released or another holder took it.
    Commit at once (module rules).
    """
    _check_ttl(ttl)
    params = {
        "account_id": lease.account_id,
        "holder": lease.holder,
        "token": lease.token,
        "ttl": ttl,
    }
    row = (await session.execute(text(_RENEW), params)).one_or_none()
    if row is None:
        raise LeaseLost(lease.account_id, await _why_not(session, lease))
    return _lease(row)


async def release(session: AsyncSession, lease: Lease) -> bool:
    """End ``lease`` now so another runner may take the account at once; ``False`` when it
    had already ended. The row stays, so the next tenure's token is still larger."""
    params = {"account_id": lease.account_id, "holder": lease.holder, "token": lease.token}
    return (await session.execute(text(_RELEASE), params)).one_or_none() is not None


async def check_fence(
    session: AsyncSession, account_id: uuid.UUID, holder: str, token: int
) -> None:
    """Refuse (:class:`LeaseLost`) unless ``holder`` holds ``account_id``'s live lease under
    ``token``; call it inside the transaction of the write it guards.

    The lease row stays share-locked until that transaction ends: a runner taking the account
    over waits for the commit, so no write of the old tenure lands after the new one began.
    """
    row = (
        await session.execute(text(_CURRENT + " FOR SHARE"), {"account_id": account_id})
    ).one_or_none()
    if row is None:
        raise LeaseLost(account_id, "it was never leased")
    if row.holder != holder or row.fencing_token != token:
        raise LeaseLost(
            account_id,
            f"token {token} of {holder!r} is stale: the lease is at token {row.fencing_token}",
        )
    if not row.live:
        raise LeaseLost(account_id, f"the lease of token {token} expired at {row.expires_at}")


async def lease_of(session: AsyncSession, account_id: uuid.UUID) -> Lease | None:
    """The account's latest lease, live or ended; ``None`` if it was never leased."""
    row = (await session.execute(text(_CURRENT), {"account_id": account_id})).one_or_none()
    return None if row is None else _lease(row)


async def _why_not(session: AsyncSession, lease: Lease) -> str:
    row = (await session.execute(text(_CURRENT), {"account_id": lease.account_id})).one_or_none()
    if row is None:
        return "it was never leased"
    if row.fencing_token != lease.token:
        return f"token {lease.token} is stale: {row.holder!r} took it at token {row.fencing_token}"
    return f"the lease of token {lease.token} ended at {row.expires_at}"
