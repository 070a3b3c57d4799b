"""The audit chain's HMAC key: where it comes from, and how a database session carries it.

The key never reaches the database: it comes from ``AETHER_AUDIT_HMAC_KEY`` or, outside
production, from ``<data dir>/audit/hmac.key`` (0600, created by ``aether up`` on first
start). Sessions that append to, verify or checkpoint the chain carry it in ``session.info``
(see :func:`audit_session_info`); a session without it is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from aether.ops import secret_files
from aether.settings import AUDIT_HMAC_KEY_MIN_CHARS, Profile, Settings

#: The ``session.info`` entry holding the :class:`AuditKey`.
SESSION_INFO_KEY = "aether.audit_key"


class AuditKeyError(RuntimeError):
    """No usable audit key; the message says where one was looked for."""


@dataclass(frozen=True, slots=True)
class AuditKey:
    """The secret, with one derived sub-key per use so a row hash never passes for a
    checkpoint signature (or the other way round). ``repr`` never shows it."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < AUDIT_HMAC_KEY_MIN_CHARS:
            raise AuditKeyError(
                f"the audit HMAC key must be at least {AUDIT_HMAC_KEY_MIN_CHARS} characters"
            )

    @classmethod
    def from_text(cls, text: str) -> AuditKey:
        return cls(text.strip().encode("utf-8"))

    def _derived(self, purpose: bytes) -> bytes:
        return hmac.new(self.secret, b"aether-audit/" + purpose, hashlib.sha256).digest()

    @property
    def row_key(self) -> bytes:
        return self._derived(b"row")

    @property
    def checkpoint_key(self) -> bytes:
        return self._derived(b"checkpoint")


def key_file(settings: Settings) -> Path:
    return settings.audit_dir / "hmac.key"


def resolve_audit_key(settings: Settings, *, create: bool = False) -> AuditKey:
    """The configured key; else (outside production) the data directory's key file.

    With ``create`` a missing file is generated (``aether up`` does this once); otherwise a
    missing key raises AuditKeyError, as does a key file others may read.
    """
    if settings.audit_hmac_key is not None:
        return AuditKey.from_text(settings.audit_hmac_key.get_secret_value())
    if settings.profile is Profile.PRODUCTION:
        raise AuditKeyError("AETHER_AUDIT_HMAC_KEY is missing (required in production)")
    path = key_file(settings)
    if not path.exists():
        if not create:
            raise AuditKeyError(
                f"no audit key: AETHER_AUDIT_HMAC_KEY is not set and {path} does not exist "
                "(`aether up` creates it on its first start)"
            )
        secret_files.create_once(path, secrets.token_urlsafe(48) + "\n")
    try:
        return AuditKey.from_text(secret_files.read_private(path))
    except secret_files.SecretFileError as exc:
        raise AuditKeyError(str(exc)) from exc


def audit_session_info(key: AuditKey | None) -> dict[str, object]:
    """The ``session.info`` that lets a session append to and verify the chain (empty for
    ``None``: such a session is refused there)."""
    return {SESSION_INFO_KEY: key} if key is not None else {}


def session_key(session: AsyncSession) -> AuditKey:
    """The key the session was made with; AuditKeyError when it carries none."""
    key = session.info.get(SESSION_INFO_KEY)
    if not isinstance(key, AuditKey):
        raise AuditKeyError(
            "this database session carries no audit key: build it with "
            "session_factory(engine, info=audit_session_info(key))"
        )
    return key
