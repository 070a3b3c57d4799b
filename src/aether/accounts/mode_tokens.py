"""Confirmation tokens of a mode switch: the proof that the second step follows the first.

Rules:

* A token is random (256 bits), shown once to whoever asked, and stored only as its SHA-256
  (``mode_switch_tokens``); a high-entropy token needs no slow hash.
* It is bound to one account, one target mode and the actor who asked, expires
  :data:`TOKEN_LIFETIME_SECONDS` after issue by the database's clock, and is spent by its
  first successful use. Any other use is :class:`ConfirmationRefused`, naming why.
* A token presented for the wrong account, mode or actor is refused without being spent.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.accounts import AccountMode
from aether.storage.mode_tables import ModeSwitchTokenRow

TOKEN_LIFETIME_SECONDS = 120
#: Marks the text as an Aether mode-switch confirmation wherever it is pasted.
TOKEN_PREFIX = "amc_"  # noqa: S105 (a label, not a secret)


class ConfirmationRefused(ValueError):
    """The confirmation token cannot confirm this switch; the message says why."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: ``token`` is the only copy of the secret."""

    id: uuid.UUID
    token: str
    expires_at: datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    session: AsyncSession,
    account_id: uuid.UUID,
    target: AccountMode,
    *,
    actor: str,
    reason: str,
) -> IssuedToken:
    """Store a new token's hash in the caller's transaction; the token itself."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = await session.scalar(select(func.now()))
    assert now is not None
    row = ModeSwitchTokenRow(
        id=uuid.uuid4(),
        account_id=account_id,
        target_mode=target.value,
        token_hash=token_hash(token),
        requested_by=actor,
        reason=reason,
        created_at=now,
        expires_at=now + timedelta(seconds=TOKEN_LIFETIME_SECONDS),
    )
    session.add(row)
    await session.flush()
    return IssuedToken(row.id, token, row.expires_at)


async def spend(
    session: AsyncSession,
    token: str,
    account_id: uuid.UUID,
    target: AccountMode,
    *,
    actor: str,
) -> ModeSwitchTokenRow:
    """Check the token against this switch and mark it used, in the caller's transaction
    (the row stays locked until it ends); ConfirmationRefused naming why it does not fit."""
    found = (
        await session.execute(
            select(ModeSwitchTokenRow, func.now())
            .where(ModeSwitchTokenRow.token_hash == token_hash(token))
            .with_for_update()
        )
    ).one_or_none()
    if found is None:
        raise ConfirmationRefused("confirmation_token is not one this platform issued")
    row, now = found
    if row.account_id != account_id:
        raise ConfirmationRefused("confirmation_token was issued for another account")
    if row.target_mode != target.value:
        raise ConfirmationRefused(
            f"confirmation_token was issued to switch to {row.target_mode}, not {target.value}"
        )
    if row.requested_by != actor:
        raise ConfirmationRefused("confirmation_token was issued to another user")
    if row.used_at is not None:
        raise ConfirmationRefused("confirmation_token was already used")
    if row.expires_at <= now:
        raise ConfirmationRefused(
            f"confirmation_token expired at {row.expires_at.isoformat()}: ask for a new one"
        )
    row.used_at = now
    await session.flush()
    return row
