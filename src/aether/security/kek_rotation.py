"""Re-wrapping stored credentials' data keys under the current KEK (``aether vault rotate-kek``).

Rules: each credential is re-wrapped in a transaction of its own, under a row lock, and
audited (``credential.rewrapped``); a credential already under the current KEK is skipped, so
an interrupted rotation is finished by running it again. Only the wrapped data key changes:
the encrypted key and secret are untouched.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit import log as audit
from aether.security.envelope import rewrap
from aether.security.kek import KekRing, session_kek_ring
from aether.security.vault import binding, envelope_of
from aether.storage.tables import KrakenCredentialRow


async def pending(session: AsyncSession, ring: KekRing) -> list[uuid.UUID]:
    """Accounts whose credential is not yet wrapped by the ring's current KEK."""
    rows = await session.scalars(
        select(KrakenCredentialRow.account_id)
        .where(KrakenCredentialRow.kek_id != ring.current.kek_id)
        .order_by(KrakenCredentialRow.account_id)
    )
    return list(rows.all())


async def rewrap_one(session: AsyncSession, account_id: uuid.UUID, *, actor: str) -> bool:
    """Re-wrap one account's data key under the current KEK; False when there was nothing to
    do (no credential, or already current). Raises KekError when the KEK that wraps it is not
    configured, EnvelopeError when it does not open."""
    ring = session_kek_ring(session)
    row = await session.get(
        KrakenCredentialRow, account_id, with_for_update=True, populate_existing=True
    )
    if row is None or row.kek_id == ring.current.kek_id:
        return False
    old_kek_id = row.kek_id
    rewrapped = rewrap(envelope_of(row), ring, binding(account_id))
    row.wrapped_key = rewrapped.wrapped_key
    row.kek_id = rewrapped.kek_id
    row.rewrapped_at = datetime.now(UTC)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        account_id=account_id,
        action="credential.rewrapped",
        details={
            "venue": "kraken",
            "key_prefix": row.key_prefix,
            "from_kek_id": old_kek_id,
            "to_kek_id": row.kek_id,
        },
    )
    return True
