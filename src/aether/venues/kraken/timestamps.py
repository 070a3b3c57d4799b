"""Kraken's RFC 3339 timestamps to and from UTC epoch nanoseconds (exact integer arithmetic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

NS = 1_000_000_000

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rfc3339_ns(stamp: str) -> int:
    """``2023-09-25T09:04:31.742599Z`` -> UTC epoch nanoseconds (exact integer arithmetic)."""
    # Kraken's form (whole seconds, ``.`` and up to 9 digits, ``Z``) takes the fast path:
    # the seconds part repeats across a burst of messages, so it is parsed once.
    if len(stamp) > 20 and stamp[19] == "." and stamp[-1] == "Z":
        fraction = stamp[20:-1]
        if 0 < len(fraction) <= 9 and fraction.isdigit():
            return _second_ns(stamp[:19]) + int(fraction) * _POWERS_10[9 - len(fraction)]
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


_POWERS_10: tuple[int, ...] = tuple(10**n for n in range(10))


@lru_cache(maxsize=1024)
def _second_ns(whole_seconds: str) -> int:
    moment = datetime.fromisoformat(whole_seconds).replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(seconds=1) * NS


def ns_rfc3339(ns: int) -> str:
    """Epoch nanoseconds as the RFC 3339 text Kraken accepts (UTC, microseconds, ``Z``)."""
    moment = _EPOCH + timedelta(microseconds=ns // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
