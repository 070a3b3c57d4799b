"""How the emulator authenticates private REST calls, exactly as Kraken does.

A private request carries ``API-Key`` and ``API-Sign`` headers and a body (form-encoded, or
JSON) with a ``nonce``. The signature is base64(HMAC-SHA512(key = base64-decoded secret,
message = URI path + SHA256(nonce + body as sent))). Nonces must strictly increase per key
(Kraken's default nonce window of 0). Failures use Kraken's error strings, in the order
Kraken checks them: the key, then the nonce's presence, then the signature, then its order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aether.emulator.runtime import NonceLedger

INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
INVALID_ARGUMENTS = "EGeneral:Invalid arguments"

MAX_NONCE = 2**64 - 1  # Kraken's nonce is an unsigned 64-bit integer


class AuthError(Exception):
    """A request refused with one of Kraken's error strings (``str(exc)`` is that string)."""

    def __init__(self, kraken_error: str) -> None:
        super().__init__(kraken_error)
        self.kraken_error = kraken_error


@dataclass(frozen=True, slots=True)
class Authenticated:
    api_key: str
    params: Mapping[str, str]  # the body's fields (JSON values as sent, strings for forms)
    nonce: int


def parse_body(body: bytes, content_type: str) -> dict[str, str]:
    """The request's fields; a body that is neither a form nor a JSON object is refused."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise AuthError(INVALID_ARGUMENTS) from None
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(text) if text else {}
        except json.JSONDecodeError:
            raise AuthError(INVALID_ARGUMENTS) from None
        if not isinstance(data, dict):
            raise AuthError(INVALID_ARGUMENTS)
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise AuthError(INVALID_ARGUMENTS) from None
    return dict(pairs)


def signature(uri_path: str, nonce: str, body: bytes, secret: bytes) -> bytes:
    """The raw HMAC-SHA512 digest Kraken expects (base64-encode it for the header)."""
    inner = hashlib.sha256(nonce.encode() + body).digest()
    return hmac.new(secret, uri_path.encode() + inner, hashlib.sha512).digest()


def authenticate(
    *,
    uri_path: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_for: Callable[[str], bytes | None],
    nonces: NonceLedger,
) -> Authenticated:
    """Check one private request; raises AuthError with Kraken's error string.

    ``headers`` must be case-insensitive (as Starlette's are). ``secret_for`` returns the
    decoded secret of an API key, or None for an unknown key. The nonce is only recorded
    once the signature is valid, so a forged request cannot burn a real client's nonces.
    """
    api_key = headers.get("api-key", "")
    secret = secret_for(api_key) if api_key else None
    if secret is None:
        raise AuthError(INVALID_KEY)
    params = parse_body(body, headers.get("content-type", ""))
    raw_nonce = params.get("nonce", "")
    if not raw_nonce.isdigit() or int(raw_nonce) > MAX_NONCE:
        raise AuthError(INVALID_NONCE)
    try:
        sent = base64.b64decode(headers.get("api-sign", ""), validate=True)
    except binascii.Error:
        raise AuthError(INVALID_SIGNATURE) from None
    if not hmac.compare_digest(sent, signature(uri_path, raw_nonce, body, secret)):
        raise AuthError(INVALID_SIGNATURE)
    nonce = int(raw_nonce)
    if not nonces.accept(api_key, nonce):
        raise AuthError(INVALID_NONCE)
    return Authenticated(api_key, params, nonce)
