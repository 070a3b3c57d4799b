"""Proving a Kraken key pair works before the vault stores it, and what it may do.

Rules:

* ``Balance`` must succeed: it reads funds and moves nothing, and a key that cannot do it
  cannot trade. A refusal is a :class:`CredentialRejectedError` naming the field at fault
  (``api_key`` or ``api_secret``); a venue that does not answer is
  :class:`VenueUnavailableError`. Neither ever carries the key or the secret.
* Kraken has no call that lists a key's permissions, so the permissions recorded are what
  successful read-only calls prove: ``query_funds`` (Balance), ``query_open_orders``
  (OpenOrders), ``query_closed_orders`` (ClosedOrders); a "permission denied" answer to the
  last two leaves that one out. Trading permissions cannot be proven without trading, so
  none is claimed.
* Nonces come from the key's own :class:`NonceStore` file (:func:`nonce_file`), the one every
  user of the key in this data directory shares.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from aether.venues.kraken import errors as kraken
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rest import Credentials, KrakenRest, KrakenTransportError

QUERY_FUNDS = "query_funds"
#: Read-only calls tried after Balance, and the permission each proves when it succeeds.
_PROBES = (("OpenOrders", "query_open_orders"), ("ClosedOrders", "query_closed_orders"))


class CredentialRejectedError(Exception):
    """Kraken refused the key pair; ``field`` is ``api_key`` or ``api_secret``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class VenueUnavailableError(Exception):
    """Kraken did not answer, or answered with a passing failure: nothing was decided."""


def nonce_file(directory: Path, api_key: str) -> Path:
    """The key's nonce file in ``directory`` (created 0700); named by a hash, not the key."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory / f"kraken-{hashlib.sha256(api_key.encode()).hexdigest()[:24]}.nonce"


async def check_credentials(
    base_url: str,
    credentials: Credentials,
    nonces: NonceStore,
    *,
    client: httpx.AsyncClient | None = None,
    timeout: float = 10.0,
) -> tuple[str, ...]:
    """The permissions the key pair is proven to have; raises CredentialRejectedError or
    VenueUnavailableError (see the module doc)."""
    async with KrakenRest(
        base_url,
        credentials=credentials,
        nonces=nonces,
        client=client,
        timeout=timeout,
        max_retries=1,
    ) as rest:
        try:
            await rest.private("Balance")
            proven = [QUERY_FUNDS]
            for method, permission in _PROBES:
                try:
                    await rest.private(method)
                except kraken.PermissionDeniedError:
                    continue
                proven.append(permission)
        except (KrakenTransportError, kraken.RetryableError, kraken.InternalError) as exc:
            raise VenueUnavailableError(f"Kraken did not answer ({_code(exc)})") from None
        except kraken.KrakenError as exc:
            raise _rejection(exc) from None
    return tuple(proven)


def _code(exc: Exception) -> str:
    return exc.code if isinstance(exc, kraken.KrakenError) else type(exc).__name__


def _rejection(exc: kraken.KrakenError) -> CredentialRejectedError:
    if isinstance(exc, kraken.InvalidSignatureError):
        return CredentialRejectedError(
            "api_secret", "Kraken refused the signature: the secret does not belong to this key"
        )
    if isinstance(exc, kraken.InvalidKeyError):
        return CredentialRejectedError("api_key", "Kraken does not know this API key")
    if isinstance(exc, kraken.PermissionDeniedError):
        return CredentialRejectedError(
            "api_key", "the key lacks Kraken's 'Query Funds' permission, which trading needs"
        )
    if isinstance(exc, kraken.InvalidNonceError):
        return CredentialRejectedError(
            "api_key",
            "Kraken refused the nonce: another program uses this key; give Aether a key of its own",
        )
    return CredentialRejectedError("api_key", f"Kraken refused the key ({exc.code})")
