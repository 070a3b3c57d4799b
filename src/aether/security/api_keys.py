"""API key format and secret hashing (Argon2id). No storage here.

A key reads ``aek_<prefix>_<secret>``: the prefix is public and indexed, the secret is shown
once and only its Argon2id hash is stored.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

KEY_MARK = "aek"
_KEY_RE = re.compile(r"^aek_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$")

# The secret is 256 random bits, so brute force is not the threat Argon2's cost guards
# against; OWASP's minimum Argon2id profile keeps per-request verification cheap.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


class InvalidApiKeyError(ValueError):
    """The presented string is not an Aether API key."""


@dataclass(frozen=True, slots=True)
class NewApiKey:
    prefix: str
    secret: str

    @property
    def token(self) -> str:
        """The full key to hand to the user (once)."""
        return f"{KEY_MARK}_{self.prefix}_{self.secret}"

    def __repr__(self) -> str:
        return f"NewApiKey(prefix={self.prefix!r}, secret='***')"


def generate() -> NewApiKey:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    prefix = "".join(secrets.choice(alphabet) for _ in range(12))
    return NewApiKey(prefix=prefix, secret=secrets.token_urlsafe(32))


def parse(token: str) -> tuple[str, str]:
    """Split a presented key into ``(prefix, secret)``; raise InvalidApiKeyError if malformed."""
    match = _KEY_RE.fullmatch(token.strip())
    if match is None:
        raise InvalidApiKeyError("malformed API key")
    return match.group(1), match.group(2)


def hash_secret(secret: str) -> str:
    return _HASHER.hash(secret)


def verify_secret(secret_hash: str, secret: str) -> bool:
    """Constant-time check of ``secret`` against its stored hash."""
    try:
        return _HASHER.verify(secret_hash, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A fixed hash to verify against when the prefix is unknown, so timing does not reveal
    which prefixes exist. Made on first use: importing this module costs no hashing."""
    return hash_secret(secrets.token_urlsafe(32))
