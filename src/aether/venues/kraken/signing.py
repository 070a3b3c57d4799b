"""The ``API-Sign`` header of Kraken's private Spot REST calls.

Per Kraken's "Spot REST Authentication" guide (docs.kraken.com/api/docs/guides/spot-rest-auth):

    API-Sign = base64(HMAC-SHA512(key = base64-decoded private key,
                                  message = URI path bytes + SHA256(nonce + POST data)))

The URI path is the part starting with ``/0/private`` (no host, no query). ``body`` is the
request body exactly as it goes on the wire: a form-encoded string
(``nonce=...&pair=XBTUSD``) or a JSON text; any change of byte, order or whitespace after
signing invalidates the signature, so sign the very string you send. The body must carry
the same ``nonce`` as the one signed here; this function does not parse the body to check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

__all__ = ["SigningError", "api_sign"]

# The guide calls the nonce an "always increasing, unsigned 64-bit integer".
_U64_MAX = 2**64 - 1


class SigningError(ValueError):
    """An input that cannot be signed; the message never contains the secret."""


def _nonce_text(nonce: str | int) -> str:
    # bool is an int subclass; True must not sign as nonce "True" or 1.
    if isinstance(nonce, bool) or not isinstance(nonce, int | str):
        raise SigningError(f"nonce must be an int or a decimal string, got {type(nonce).__name__}")
    text = str(nonce)
    if not text.isascii() or not text.isdigit() or not 0 <= int(text) <= _U64_MAX:
        raise SigningError(f"nonce must be an unsigned 64-bit integer, got {text!r}")
    return text


def _secret_bytes(secret_b64: str) -> bytes:
    try:
        secret = base64.b64decode(secret_b64, validate=True)
    except (binascii.Error, ValueError):
        # Never echo the secret, not even a fragment of it.
        raise SigningError("API secret is not valid base64") from None
    if not secret:
        raise SigningError("API secret is empty")
    return secret


def api_sign(uri_path: str, nonce: str | int, body: str, secret_b64: str) -> str:
    """The base64 ``API-Sign`` value for one private call.

    ``uri_path`` like ``/0/private/AddOrder``; ``nonce`` the integer also sent in ``body``;
    ``body`` the exact form-encoded or JSON text sent; ``secret_b64`` the private key as
    Kraken displays it (base64). Raises :class:`SigningError` on a malformed input.
    """
    if not uri_path.startswith("/"):
        raise SigningError(f"uri_path must start with '/', got {uri_path!r}")
    digest = hashlib.sha256((_nonce_text(nonce) + body).encode("utf-8")).digest()
    mac = hmac.new(_secret_bytes(secret_b64), uri_path.encode("utf-8") + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode("ascii")
