"""Validated API input types: every query, path and body parameter a client sends is one of
these (or a UUID, an enum, or a model built from them).

Input that PostgreSQL or Python would refuse further in is a 422 naming the field, never a
500. The rules, one per kind of value:

- Integers are non-negative and fit PostgreSQL's ``bigint`` (at most 2**63 - 1).
- Text is bounded and holds no NUL character (PostgreSQL's ``text`` and ``jsonb`` refuse it).
- Timestamps carry a zone and, converted to UTC, fall in ``[TIMESTAMP_MIN, TIMESTAMP_MAX)``
  (year 1 to 9999-12-01: inside PostgreSQL's range, with room for interval arithmetic at the
  end of the calendar). A bare number is epoch seconds, fractions allowed, from 0 to below
  ``EPOCH_SECONDS_LIMIT`` (10**10, 2286-11-20): a larger number looks like epoch milliseconds
  and is refused rather than guessed at.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

BIGINT_MAX: Final = 2**63 - 1
TIMESTAMP_MIN: Final = datetime(1, 1, 1, tzinfo=UTC)
TIMESTAMP_MAX: Final = datetime(9999, 12, 1, tzinfo=UTC)
EPOCH_SECONDS_LIMIT: Final = 10**10
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = Decimal("0.000001")
_NUMBER: Final = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")
#: In the schema, so generated clients and fuzzers know NUL is refused.
NUL_FREE_PATTERN: Final = r"^[^\x00]*$"


# -- integers -------------------------------------------------------------------------------

#: A count or position stored as ``bigint``: 0 to 2**63 - 1.
NonNegativeBigint = Annotated[int, Field(ge=0, le=BIGINT_MAX)]


# -- text -----------------------------------------------------------------------------------


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


class _NulFree:
    """Refuses NUL characters, and says so in the JSON schema (as a ``pattern``)."""

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(_without_nul, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", NUL_FREE_PATTERN)
        return json_schema


#: A name a person chooses (account, key, user): 1 to 100 characters.
Name = Annotated[str, Field(min_length=1, max_length=100), _NulFree()]
#: A filter value matched exactly against stored text (audit action or actor).
FilterText = Annotated[str, Field(min_length=1, max_length=200), _NulFree()]
#: A pair as a client types it (``XBTUSD``, ``BTC/USD``): 1 to 32 characters.
PairText = Annotated[str, Field(min_length=1, max_length=32), _NulFree()]
#: A short code chosen from a list (a channel kind, an interval such as ``1h``).
CodeText = Annotated[str, Field(min_length=1, max_length=16), _NulFree()]
#: An opaque token the API returned earlier (a page cursor).
CursorText = Annotated[str, Field(min_length=1, max_length=200), _NulFree()]


# -- timestamps -----------------------------------------------------------------------------


def _from_epoch_seconds(value: Any) -> Any:
    """Numbers (and numeric strings) as epoch seconds; anything else is left to pydantic."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return value
    if isinstance(value, str):
        if not _NUMBER.match(value.strip()):
            return value
        text = value.strip()
    else:
        text = str(value)
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        return value
    if not seconds.is_finite():
        raise ValueError("must be a finite number of epoch seconds")
    if seconds < 0:
        raise ValueError("epoch seconds must not be negative; send ISO 8601 for earlier times")
    if seconds >= EPOCH_SECONDS_LIMIT:
        raise ValueError(
            f"epoch seconds must be below {EPOCH_SECONDS_LIMIT} (2286-11-20); a larger number "
            "looks like epoch milliseconds: divide by 1000, or send ISO 8601"
        )
    micros = int(seconds.quantize(_MICROSECOND, rounding=ROUND_HALF_EVEN) * 1_000_000)
    return _EPOCH + timedelta(microseconds=micros)


def _in_storage_range(moment: datetime) -> datetime:
    """The same instant in UTC, if it lies in the storage range."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not TIMESTAMP_MIN <= utc < TIMESTAMP_MAX:
        raise ValueError(
            "must lie, in UTC, from 0001-01-01T00:00:00Z to before 9999-12-01T00:00:00Z"
        )
    return utc


#: An instant: ISO 8601 with a zone, or epoch seconds; always returned in UTC.
Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_from_epoch_seconds),
    AfterValidator(_in_storage_range),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "number", "minimum": 0, "exclusiveMaximum": EPOCH_SECONDS_LIMIT},
            ],
            "description": "ISO 8601 with a zone, or epoch seconds (never milliseconds); "
            "in UTC from 0001-01-01 to before 9999-12-01",
        }
    ),
]
