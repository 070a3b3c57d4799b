"""The chain's canonical encoding and keyed hash (pure functions)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aether.audit.chain import (
    GENESIS_HASH,
    AuditEntry,
    canonical,
    chain_hash,
    check_link,
    normalise_details,
)

TS = datetime(2026, 11, 23, 12, 0, 0, 123456, tzinfo=UTC)
ACCOUNT = uuid.UUID("00000000-0000-4000-8000-000000000001")
KEY = b"k" * 32


def _entry(seq: int, prev: str, details: dict[str, object] | None = None) -> AuditEntry:
    body = normalise_details(details or {"n": seq})
    digest = chain_hash(KEY, prev, seq, TS, "user:root", ACCOUNT, "thing.done", body)
    return AuditEntry(seq, TS, "user:root", ACCOUNT, "thing.done", body, prev, digest)


def test_canonical_encoding_is_independent_of_key_order() -> None:
    a = canonical(1, TS, "x", None, "a", {"b": 1, "a": [1, 2]})
    b = canonical(1, TS, "x", None, "a", {"a": [1, 2], "b": 1})
    assert a == b
    assert b'"ts":"2026-11-23T12:00:00.123456+00:00"' in a


def test_hash_covers_every_field_and_the_key() -> None:
    base = chain_hash(KEY, GENESIS_HASH, 1, TS, "a", ACCOUNT, "x", {"k": 1})
    variants = [
        chain_hash(b"j" * 32, GENESIS_HASH, 1, TS, "a", ACCOUNT, "x", {"k": 1}),
        chain_hash(KEY, "1" * 64, 1, TS, "a", ACCOUNT, "x", {"k": 1}),
        chain_hash(KEY, GENESIS_HASH, 2, TS, "a", ACCOUNT, "x", {"k": 1}),
        chain_hash(KEY, GENESIS_HASH, 1, TS.replace(microsecond=1), "a", ACCOUNT, "x", {"k": 1}),
        chain_hash(KEY, GENESIS_HASH, 1, TS, "b", ACCOUNT, "x", {"k": 1}),
        chain_hash(KEY, GENESIS_HASH, 1, TS, "a", None, "x", {"k": 1}),
        chain_hash(KEY, GENESIS_HASH, 1, TS, "a", ACCOUNT, "y", {"k": 1}),
        chain_hash(KEY, GENESIS_HASH, 1, TS, "a", ACCOUNT, "x", {"k": 2}),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_a_plain_sha256_recomputed_by_a_table_writer_does_not_verify() -> None:
    """Who can write the table but has no key can only recompute an unkeyed hash."""
    genuine = _entry(1, GENESIS_HASH)
    body = {"n": 999}
    plain = hashlib.sha256(
        GENESIS_HASH.encode() + b"\n" + canonical(1, TS, "user:root", ACCOUNT, "thing.done", body)
    ).hexdigest()
    forged = replace(genuine, details=body, hash=plain)
    broken = check_link(forged, 1, GENESIS_HASH, KEY)
    assert broken is not None
    assert broken.seq == 1
    assert "HMAC mismatch" in broken.reason


def test_details_normalise_to_their_stored_json_form() -> None:
    details = normalise_details({"amount": Decimal("1.50"), "id": ACCOUNT, "at": TS})
    assert details == {
        "amount": "1.50",
        "id": str(ACCOUNT),
        "at": "2026-11-23T12:00:00.123456+00:00",
    }
    with pytest.raises(TypeError, match="cannot hold"):
        normalise_details({"bad": object()})


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical(1, datetime(2026, 1, 1), "a", None, "x", {})  # noqa: DTZ001


def test_check_link_accepts_a_good_chain_and_names_each_kind_of_break() -> None:
    first = _entry(1, GENESIS_HASH)
    second = _entry(2, first.hash)
    assert check_link(first, 1, GENESIS_HASH, KEY) is None
    assert check_link(second, 2, first.hash, KEY) is None
    assert check_link(second, 2, first.hash, b"j" * 32) is not None  # another key

    altered = replace(second, details={"n": 999})
    broken = check_link(altered, 2, first.hash, KEY)
    assert broken is not None
    assert broken.seq == 2
    assert "altered" in broken.reason

    gap = check_link(_entry(3, first.hash), 2, first.hash, KEY)
    assert gap is not None
    assert "gap" in gap.reason

    relinked = check_link(_entry(2, "f" * 64), 2, first.hash, KEY)
    assert relinked is not None
    assert "prev_hash" in relinked.reason


#: A record with every kind of value the details hold: the bytes hashed for it, as stored
#: rows were hashed. Changing these breaks the verification of every existing audit row.
_PINNED_DETAILS: dict[str, object] = {
    "amount": Decimal("1.50"),
    "tiny": Decimal("1E-8"),
    "fee": Decimal("-0.0026"),
    "id": ACCOUNT,
    "at": TS,
    "note": "prix € — ok\ttab",
    "ratio": 0.1,
    "huge": 1e16,
    "big": 10**20,
    "levels": [[Decimal("30000.1"), Decimal("0.50000000")]],
    "flag": True,
    "none": None,
}
_PINNED_CANONICAL = (
    '{"account_id":"00000000-0000-4000-8000-000000000001","action":"order.placed",'
    '"actor":"user:root","details":{"amount":"1.50","at":"2026-11-23T12:00:00.123456+00:00",'
    '"big":100000000000000000000,"fee":"-0.0026","flag":true,"huge":1e+16,'
    '"id":"00000000-0000-4000-8000-000000000001","levels":[["30000.1","0.50000000"]],'
    '"none":null,"note":"prix € — ok\\ttab","ratio":0.1,"tiny":"1E-8"},"seq":7,'
    '"ts":"2026-11-23T12:00:00.123456+00:00"}'
).encode()
_PINNED_HASH = "767cc120d243e45358892a4916535bc4fd45d68000ef4df9aefc028cc10909b7"


def test_the_hashed_bytes_of_a_decimal_bearing_record_never_change() -> None:
    stored = normalise_details(_PINNED_DETAILS)
    assert canonical(7, TS, "user:root", ACCOUNT, "order.placed", _PINNED_DETAILS) == (
        _PINNED_CANONICAL
    )
    assert canonical(7, TS, "user:root", ACCOUNT, "order.placed", stored) == _PINNED_CANONICAL
    assert stored["ratio"] == 0.1  # stored JSON numbers read back as floats, as before
    assert stored["tiny"] == "1E-8"
    digest = chain_hash(KEY, GENESIS_HASH, 7, TS, "user:root", ACCOUNT, "order.placed", stored)
    assert digest == _PINNED_HASH
