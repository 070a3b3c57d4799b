"""The audit chain's canonical encoding and keyed hash: pure functions, no storage.

``hash = HMAC-SHA-256(row_key, prev_hash || "\\n" || canonical(row))`` where ``canonical`` is
JSON with sorted keys, no whitespace, UTF-8 text and Decimals as strings (``str(d)``, through
:mod:`aether.domain.decimal_json`), and ``row_key`` derives from a secret that never reaches
the database: whoever can write the table still cannot recompute a hash. The first row's
``prev_hash`` is :data:`GENESIS_HASH`.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aether.domain import decimal_json

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row as the chain sees it."""

    seq: int
    ts: datetime
    actor: str
    account_id: uuid.UUID | None
    action: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def _json_default(value: object) -> object:
    """UUIDs and datetimes as text (Decimals are the codec's: ``str(d)``, a JSON string)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"audit details cannot hold {type(value).__name__}")


def _iso(ts: datetime) -> str:
    if ts.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def normalise_details(details: dict[str, Any]) -> dict[str, Any]:
    """Details as they will read back from JSON storage (Decimals, UUIDs, datetimes as text).

    Hash what the database will return, so verification never depends on Python types.
    """
    text = decimal_json.dumps(details, decimals="string", default=_json_default)
    normalised: dict[str, Any] = decimal_json.loads(text, floats="float")  # as JSONB reads
    return normalised


def canonical(
    seq: int,
    ts: datetime,
    actor: str,
    account_id: uuid.UUID | None,
    action: str,
    details: dict[str, Any],
) -> bytes:
    """The exact bytes that are hashed for one row."""
    body = {
        "seq": seq,
        "ts": _iso(ts),
        "actor": actor,
        "account_id": str(account_id) if account_id is not None else None,
        "action": action,
        "details": details,
    }
    text = decimal_json.dumps(
        body, decimals="string", sort_keys=True, ensure_ascii=False, default=_json_default
    )
    return text.encode("utf-8")


def chain_hash(
    key: bytes,
    prev_hash: str,
    seq: int,
    ts: datetime,
    actor: str,
    account_id: uuid.UUID | None,
    action: str,
    details: dict[str, Any],
) -> str:
    """HMAC-SHA-256 hex digest (under ``key``) linking a row to its predecessor."""
    digest = hmac.new(key, digestmod=hashlib.sha256)
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical(seq, ts, actor, account_id, action, details))
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    reason: str


def check_link(
    entry: AuditEntry, expected_seq: int, expected_prev: str, key: bytes
) -> ChainBreak | None:
    """Why ``entry`` does not continue the chain (or None when it does)."""
    if entry.seq != expected_seq:
        return ChainBreak(entry.seq, f"sequence gap: expected {expected_seq}, found {entry.seq}")
    if entry.prev_hash != expected_prev:
        return ChainBreak(entry.seq, "prev_hash does not match the previous row's hash")
    recomputed = chain_hash(
        key,
        entry.prev_hash,
        entry.seq,
        entry.ts,
        entry.actor,
        entry.account_id,
        entry.action,
        entry.details,
    )
    if not hmac.compare_digest(recomputed, entry.hash):
        return ChainBreak(
            entry.seq,
            "HMAC mismatch: the row's content does not match its keyed hash (the row was "
            "altered, or its hash recomputed by someone without the audit key)",
        )
    return None
