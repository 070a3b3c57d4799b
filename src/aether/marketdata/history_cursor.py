"""The opaque cursors of stored-history pages.

A cursor is ``v1|<head parts>|<positions>`` in URL-safe base64 without padding. The head
binds it to one query (kind, symbol, interval, source); the positions are integers, a time
in microseconds first, then (trades) a bigint trade id. A cursor from another query, or one
this API cannot have written, is refused with :class:`CursorError` rather than silently
reinterpreted.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from aether.marketdata.records import ns_to_datetime

_US = timedelta(microseconds=1)
_BIGINT_MAX: Final = 2**63 - 1
# Room for a page's span arithmetic (at most one 15-day interval) before datetime's end.
_MAX_CURSOR_US: Final = (datetime(9999, 12, 1, tzinfo=UTC) - ns_to_datetime(0)) // _US

NOT_OURS: Final = "not a cursor returned by this API"


class CursorError(ValueError):
    """A cursor that cannot be used; the message says why (for the ``cursor`` parameter)."""


def encode_cursor(*parts: object) -> str:
    """The cursor of ``parts`` (the query's head, then the integer positions)."""
    raw = "|".join(["v1", *(str(p) for p in parts)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, expected_head: Sequence[object], positions: int) -> list[int]:
    """The integer positions after ``expected_head``; CursorError if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise CursorError(NOT_OURS) from exc
    parts = raw.split("|")
    head = ["v1", *(str(p) for p in expected_head)]
    digits = parts[len(head) :]
    if len(parts) != len(head) + positions or not all(p.isascii() and p.isdigit() for p in digits):
        raise CursorError(NOT_OURS)
    if parts[: len(head)] != head:
        raise CursorError("belongs to another query (symbol, interval or source differ)")
    values = [int(p) for p in digits]
    # What the API writes: a time in microseconds first, then (trades) a bigint trade id.
    if values[0] > _MAX_CURSOR_US or any(v > _BIGINT_MAX for v in values):
        raise CursorError(NOT_OURS)
    return values
