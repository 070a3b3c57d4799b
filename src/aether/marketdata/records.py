"""Rows of market data on their way to and from storage: trades, candles, gaps, references.

Timestamps are UTC epoch nanoseconds (candles: a domain ``Bar``, in epoch seconds of the
interval's start), money is Decimal exactly as the venue printed it. A *gap* here is data
recorded as lost (a ``market_gaps`` row); holes found in a series are ``history_holes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from aether.domain.bars import Bar
from aether.domain.events import Tick

TradeSource = Literal["ws", "rest"]
#: Where a candle came from: Kraken's WebSocket ohlc channel, built from stored trades,
#: Kraken's bulk OHLCVT CSV, or Kraken's REST OHLC.
CandleSource = Literal["kraken-ws", "trades", "kraken-csv", "kraken-ohlc"]
#: ``market_gaps.source`` of the gaps the live ingest records (imports use ``import:<name>``).
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

    @classmethod
    def of_tick(cls, tick: Tick, source: TradeSource, symbol: str | None = None) -> TradeRecord:
        """A domain ``Tick`` as a ``source`` row (of ``symbol``, else the tick's own).

        ValueError when the tick has no trade id or no ``buy``/``sell`` side: without them
        a print cannot be told apart from another, so it is not stored.
        """
        if tick.trade_id is None or tick.side not in ("buy", "sell"):
            raise ValueError(f"trade of {symbol or tick.symbol} without id or side")
        side: Literal["buy", "sell"] = "buy" if tick.side == "buy" else "sell"
        return cls(
            symbol or tick.symbol, tick.trade_id, tick.ts_ns, tick.price, tick.quantity, side,
            source,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class CandleRecord:
    """A bar and where it came from: the ``candles`` row of (symbol, interval, source, start).

    The OHLCV values are the domain's :class:`~aether.domain.bars.Bar` (``start`` in epoch
    seconds of the interval's start, ``interval`` in seconds); this adds only the source.
    """

    bar: Bar
    source: CandleSource


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
