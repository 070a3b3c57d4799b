"""Rows of market data on their way to storage: trades, candles, gaps, reference prices.

Timestamps are UTC epoch nanoseconds (candles: epoch seconds of the interval's start), money
is Decimal exactly as the venue printed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from aether.domain.bars import Bar

TradeSource = Literal["ws", "rest"]
#: Where a candle came from: Kraken's WebSocket ohlc channel, built from stored trades,
#: Kraken's bulk OHLCVT CSV, or Kraken's REST OHLC.
CandleSource = Literal["kraken-ws", "trades", "kraken-csv", "kraken-ohlc"]
#: ``market_gaps.source`` of the holes the live ingest records (imports use ``import:<name>``).
INGEST_SOURCE = "ingest"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ns_to_datetime(ns: int) -> datetime:
    """Epoch nanoseconds -> aware UTC datetime (microsecond precision, as PostgreSQL keeps)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def datetime_to_ns(moment: datetime) -> int:
    """Aware datetime -> epoch nanoseconds (exact integer arithmetic)."""
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """A public trade print; (symbol, trade_id) identifies it whichever way it arrived."""

    symbol: str
    trade_id: int
    ts_ns: int
    price: Decimal
    quantity: Decimal
    side: Literal["buy", "sell"]
    source: TradeSource


@dataclass(frozen=True, slots=True)
class CandleRecord:
    symbol: str
    interval_s: int
    source: CandleSource
    start_s: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int

    @classmethod
    def of_bar(cls, bar: Bar, source: CandleSource, symbol: str | None = None) -> CandleRecord:
        """A domain ``Bar`` as a ``source`` row (of ``symbol``, else the bar's own)."""
        return cls(
            symbol or bar.symbol, bar.interval, source, bar.start, bar.open, bar.high, bar.low,
            bar.close, bar.volume, bar.trades,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class GapRecord:
    """Data known to be missing for ``symbol``'s ``kind`` from ``start_ns`` (to ``end_ns``,
    None while it lasts). ``source`` is ``ingest`` or ``import:<name>``."""

    symbol: str
    kind: str
    start_ns: int
    end_ns: int | None
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class ReferencePrice:
    """A third-party price point (CoinGecko), for context only."""

    source: str
    coin: str
    ts_ns: int
    price_usd: Decimal
    market_cap_usd: Decimal | None
    volume_usd: Decimal | None
