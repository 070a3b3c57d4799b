"""What a reader of stored market history asks for, checked: the pair, interval, range
and page size of a candle or trade query.

Every refusal is a :class:`HistoryQueryError` naming the parameter at fault. A pair may be
typed in any spelling ``pair_names`` accepts (:func:`pair_symbol`); queries themselves take
the altname (``XBTUSD``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from aether.bus.subjects import is_symbol
from aether.marketdata.pair_names import canonical_pair
from aether.venues.kraken.pair_names import UnknownPairError

#: Kraken's longest OHLC interval (15 days); longer ones cannot exist in storage.
MAX_INTERVAL_S: Final = 15 * 86_400

_UNIT_SECONDS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_INTERVAL = re.compile(r"^([0-9]{1,7})([smhdw]?)$")


class HistoryQueryError(ValueError):
    """A query parameter that cannot be served; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


def check_symbol(symbol: str) -> str:
    """The symbol if it is an upper-case REST altname (XBTUSD), else HistoryQueryError."""
    if not is_symbol(symbol):
        raise HistoryQueryError(
            "symbol", f"symbol {symbol!r} is not an upper-case altname such as XBTUSD"
        )
    return symbol


async def pair_symbol(session: AsyncSession, typed: str) -> str:
    """The altname of a typed pair name (``BTC/USD`` -> ``XBTUSD``), else HistoryQueryError
    naming what was typed (an unknown pair, or one not quoted in USD)."""
    try:
        return await canonical_pair(session, typed)
    except UnknownPairError as exc:
        raise HistoryQueryError("symbol", str(exc)) from None


def parse_interval(text: str) -> int:
    """Interval length in seconds from ``3600`` or ``<n><unit>`` (units s, m, h, d, w, so
    ``1m``, ``5m``, ``15m``, ``1h``, ``4h``, ``1d``); 1 s to 15 days."""
    match = _INTERVAL.match(text.strip().lower())
    if match is None:
        raise HistoryQueryError(
            "interval", f"{text!r} is not seconds (3600) or a length such as 1m, 5m, 1h, 4h, 1d"
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 0 < seconds <= MAX_INTERVAL_S:
        raise HistoryQueryError("interval", f"must be 1 s to {MAX_INTERVAL_S} s (15 days)")
    return seconds


@dataclass(frozen=True, slots=True)
class CandleQuery:
    """Candles of ``symbol`` with ``start <= candle start < end`` (either bound optional)."""

    symbol: str
    interval_s: int
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 500
    source: str | None = None  # None: by history_query.SOURCE_PRIORITY
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class TradeQuery:
    """Trades of ``symbol`` with ``start <= ts < end`` (either bound optional)."""

    symbol: str
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 500
    cursor: str | None = None


def check_range(start: datetime | None, end: datetime | None, limit: int) -> None:
    """HistoryQueryError unless ``start`` is before ``end`` (when both are given) and
    ``limit`` is at least 1."""
    if start is not None and end is not None and start >= end:
        raise HistoryQueryError("start", "must be before end")
    if limit < 1:
        raise HistoryQueryError("limit", "must be at least 1")
