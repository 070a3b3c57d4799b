"""The credential vault: each account's Kraken API key and secret under envelope encryption.

Rules:

* One credential per account (``kraken_credentials``). The key and secret are sealed by
  :mod:`aether.security.envelope` under a fresh data key, bound to the account's id; the
  KEKs come from the session (:func:`aether.security.kek.session_kek_ring`).
* Storing over an existing credential (a rotation) replaces it in the caller's transaction:
  the old and the new are never both, or neither, visible.
* Every change and every decryption for use is an audit entry in the same transaction (the
  caller commits). Audit details, metadata and errors carry the key's prefix and the KEK's
  id at most, never the key or the secret.
* :func:`metadata` reads what may be shown; only :func:`credentials_for` decrypts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit import log as audit
from aether.security.envelope import Envelope, open_envelope, seal
from aether.security.kek import session_kek_ring
from aether.storage.tables import KrakenCredentialRow
from aether.venues.kraken.rest import Credentials as KrakenCredentials

__all__ = [
    "KEY_PREFIX_CHARS",
    "CredentialMetadata",
    "CredentialNotFoundError",
    "KrakenCredentials",
    "binding",
    "credentials_for",
    "envelope_of",
    "key_prefix",
    "metadata",
    "store",
]

#: Characters of the API key kept in the clear, to tell keys apart (never enough to use one).
KEY_PREFIX_CHARS = 6


class CredentialNotFoundError(LookupError):
    """The account has no stored credential."""


@dataclass(frozen=True, slots=True)
class CredentialMetadata:
    """What may be shown about a stored credential: never the key or the secret."""

    account_id: uuid.UUID
    key_prefix: str
    permissions: tuple[str, ...]
    kek_id: str
    created_at: datetime
    created_by: str
    validated_at: datetime
    rewrapped_at: datetime | None

    @classmethod
    def of(cls, row: KrakenCredentialRow) -> CredentialMetadata:
        return cls(
            account_id=row.account_id,
            key_prefix=row.key_prefix,
            permissions=tuple(row.permissions),
            kek_id=row.kek_id,
            created_at=row.created_at,
            created_by=row.created_by,
            validated_at=row.validated_at,
            rewrapped_at=row.rewrapped_at,
        )


def key_prefix(api_key: str) -> str:
    return api_key[:KEY_PREFIX_CHARS]


def binding(account_id: uuid.UUID) -> str:
    """What a credential's ciphertexts are bound to: its row, the account's."""
    return f"kraken_credentials/{account_id}"


def envelope_of(row: KrakenCredentialRow) -> Envelope:
    return Envelope(row.ciphertext, row.wrapped_key, row.kek_id)


async def store(
    session: AsyncSession,
    account_id: uuid.UUID,
    credentials: KrakenCredentials,
    *,
    permissions: Sequence[str],
    validated_at: datetime,
    actor: str,
) -> CredentialMetadata:
    """Seal and store the account's credential, replacing any previous one, and audit it
    (``credential.stored``, or ``credential.rotated`` with the replaced key's prefix)."""
    ring = session_kek_ring(session)
    previous = await session.get(
        KrakenCredentialRow, account_id, with_for_update=True, populate_existing=True
    )
    replaced = previous.key_prefix if previous is not None else None
    payload = json.dumps({"api_key": credentials.api_key, "api_secret": credentials.api_secret})
    sealed = seal(payload.encode(), ring.current, binding(account_id))
    values = {
        "key_prefix": key_prefix(credentials.api_key),
        "ciphertext": sealed.ciphertext,
        "wrapped_key": sealed.wrapped_key,
        "kek_id": sealed.kek_id,
        "permissions": sorted(set(permissions)),
        "created_by": actor,
        "validated_at": validated_at,
    }
    # An upsert: a first upload racing another for the same account replaces, never fails.
    await session.execute(
        insert(KrakenCredentialRow)
        .values(account_id=account_id, **values)
        .on_conflict_do_update(
            index_elements=[KrakenCredentialRow.account_id],
            set_={**values, "created_at": func.now(), "rewrapped_at": None},
        )
    )
    row = await session.get(KrakenCredentialRow, account_id, populate_existing=True)
    assert row is not None  # just written in this transaction
    await audit.append(
        session,
        actor=actor,
        account_id=account_id,
        action="credential.stored" if replaced is None else "credential.rotated",
        details={
            "venue": "kraken",
            "key_prefix": row.key_prefix,
            "permissions": row.permissions,
            "kek_id": row.kek_id,
            **({"replaced_key_prefix": replaced} if replaced is not None else {}),
        },
    )
    return CredentialMetadata.of(row)


async def metadata(session: AsyncSession, account_id: uuid.UUID) -> CredentialMetadata:
    """The stored credential's metadata; CredentialNotFoundError when there is none."""
    row = await session.get(KrakenCredentialRow, account_id, populate_existing=True)
    if row is None:
        raise CredentialNotFoundError(f"account {account_id} has no stored Kraken credential")
    return CredentialMetadata.of(row)


async def credentials_for(
    session: AsyncSession, account_id: uuid.UUID, *, actor: str = "system:trading"
) -> KrakenCredentials:
    """The account's decrypted key and secret, for the venue client; audited as
    ``credential.read`` in the caller's transaction (commit it). Raises
    CredentialNotFoundError, KekError (its KEK is not configured) or EnvelopeError."""
    row = await session.get(KrakenCredentialRow, account_id, populate_existing=True)
    if row is None:
        raise CredentialNotFoundError(f"account {account_id} has no stored Kraken credential")
    plaintext = open_envelope(envelope_of(row), session_kek_ring(session), binding(account_id))
    fields = json.loads(plaintext)
    await audit.append(
        session,
        actor=actor,
        account_id=account_id,
        action="credential.read",
        details={"venue": "kraken", "key_prefix": row.key_prefix, "kek_id": row.kek_id},
    )
    return KrakenCredentials(api_key=fields["api_key"], api_secret=fields["api_secret"])
