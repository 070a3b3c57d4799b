"""The credential vault's key-encryption keys (KEKs): where they come from and their ids.

The current KEK comes from ``AETHER_CREDENTIAL_ENCRYPTION_KEY`` or the file named by
``AETHER_CREDENTIAL_ENCRYPTION_KEY_FILE`` (a mounted Kubernetes secret is such a file); outside
production, with neither set, from ``<data dir>/vault/kek.key`` (0600, created on the API's
first start). While a KEK is being rotated, the previous one is named the same way
(``..._PREVIOUS_KEY`` / ``..._PREVIOUS_KEY_FILE``) so credentials it still wraps stay readable.

A KEK's id is derived from the key (a truncated SHA-256 under a fixed label): the same key has
the same id in every process, and the id, stored beside each credential, reveals nothing of it.
A session that opens or seals credentials carries the :class:`KekRing` in ``session.info``
(:func:`vault_session_info`), as sessions that audit carry the audit key.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from aether.ops import secret_files
from aether.settings import Profile, Settings, decode_kek

#: The ``session.info`` entry holding the :class:`KekRing`.
SESSION_INFO_KEY = "aether.vault_keks"


class KekError(RuntimeError):
    """No usable KEK, or none with the id a credential names; the message says which."""


@dataclass(frozen=True, slots=True)
class Kek:
    """One 32-byte AES-256-GCM key-encryption key; ``repr`` shows only its id."""

    key: bytes = field(repr=False)
    kek_id: str = field(init=False)

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise KekError("a key-encryption key must be exactly 32 bytes")
        digest = hashlib.sha256(b"aether-vault/kek-id/" + self.key).hexdigest()
        object.__setattr__(self, "kek_id", "kek-" + digest[:16])


@dataclass(frozen=True, slots=True)
class KekRing:
    """The current KEK (wraps every new or re-wrapped data key) and, during a rotation, the
    previous one (only unwraps)."""

    current: Kek
    previous: Kek | None = None

    def by_id(self, kek_id: str) -> Kek:
        for kek in (self.current, self.previous):
            if kek is not None and kek.kek_id == kek_id:
                return kek
        raise KekError(
            f"no configured key-encryption key has id {kek_id}: set it as "
            "AETHER_CREDENTIAL_ENCRYPTION_PREVIOUS_KEY (or ..._FILE) to read or re-wrap it"
        )


def local_kek_file(settings: Settings) -> Path:
    return settings.vault_dir / "kek.key"


def resolve_kek_ring(settings: Settings, *, create: bool = False) -> KekRing:
    """The configured KEKs; outside production without one, the data directory's KEK file.

    With ``create`` a missing local file is generated; otherwise a missing KEK raises
    KekError, as does a local file others may read or a key that is not 32 bytes of base64.
    """
    current = _configured(
        "AETHER_CREDENTIAL_ENCRYPTION_KEY",
        settings.credential_encryption_key,
        settings.credential_encryption_key_file,
    )
    if current is None:
        current = _local(settings, create=create)
    previous = _configured(
        "AETHER_CREDENTIAL_ENCRYPTION_PREVIOUS_KEY",
        settings.credential_encryption_previous_key,
        settings.credential_encryption_previous_key_file,
    )
    if previous is not None and previous.kek_id == current.kek_id:
        previous = None  # rotating to the same key: nothing is ever wrapped by "the other"
    return KekRing(current, previous)


def _configured(name: str, value: SecretStr | None, path: Path | None) -> Kek | None:
    if value is not None:
        return Kek(decode_kek(value.get_secret_value()))
    if path is None:
        return None
    try:
        text = path.read_text()
    except OSError as exc:
        raise KekError(f"{name}_FILE: cannot read {path}: {exc.strerror}") from None
    try:
        return Kek(decode_kek(text))
    except ValueError as exc:
        raise KekError(f"{name}_FILE: the key in {path} {exc}") from None


def _local(settings: Settings, *, create: bool) -> Kek:
    if settings.profile is Profile.PRODUCTION:
        raise KekError(
            "AETHER_CREDENTIAL_ENCRYPTION_KEY (or ..._KEY_FILE) is missing (required in production)"
        )
    path = local_kek_file(settings)
    if not path.exists():
        if not create:
            raise KekError(
                f"no credential vault key: AETHER_CREDENTIAL_ENCRYPTION_KEY is not set and "
                f"{path} does not exist (the API creates it on its first start)"
            )
        secret_files.create_once(path, base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    try:
        return Kek(decode_kek(secret_files.read_private(path)))
    except secret_files.SecretFileError as exc:
        raise KekError(str(exc)) from exc
    except ValueError as exc:
        raise KekError(f"the key in {path} {exc}") from None


def vault_session_info(ring: KekRing | None) -> dict[str, object]:
    """The ``session.info`` that lets a session seal and open credentials."""
    return {SESSION_INFO_KEY: ring} if ring is not None else {}


def session_kek_ring(session: AsyncSession) -> KekRing:
    """The KEKs the session was made with; KekError when it carries none."""
    ring = session.info.get(SESSION_INFO_KEY)
    if not isinstance(ring, KekRing):
        raise KekError(
            "this database session carries no vault keys: build it with "
            "session_factory(engine, info=vault_session_info(ring))"
        )
    return ring
