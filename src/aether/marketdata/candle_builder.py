"""Candles built from trade prints, and their reconciliation with the candles a venue sends.

Only intervals that had trades get a candle: an interval without prints is a hole the
caller reports, never a flat bar invented here. Trades are ordered by (time, trade id)
inside an interval, so the open is the first print and the close the last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.bars import Bar
from aether.marketdata.records import CandleRecord, CandleSource, TradeRecord

NS = 1_000_000_000


def interval_start(ts_ns: int, interval_s: int) -> int:
    """The start (epoch seconds) of the ``interval_s`` interval holding ``ts_ns``."""
    seconds = ts_ns // NS
    return seconds - seconds % interval_s


def _candle(
    trades: Sequence[TradeRecord], interval_s: int, start_s: int, source: CandleSource
) -> CandleRecord:
    ordered = sorted(trades, key=lambda t: (t.ts_ns, t.trade_id))
    prices = [t.price for t in ordered]
    bar = Bar(
        ordered[0].symbol,
        start_s,
        interval_s,
        prices[0],
        max(prices),
        min(prices),
        prices[-1],
        sum((t.quantity for t in ordered), Decimal(0)),
        len(ordered),
    )
    return CandleRecord(bar, source)


def candles_from_trades(
    trades: Iterable[TradeRecord], interval_s: int, source: CandleSource = "trades"
) -> list[CandleRecord]:
    """One candle per (symbol, interval) that had trades, ordered by symbol and start."""
    if interval_s <= 0:
        raise ValueError(f"interval_s must be positive, got {interval_s}")
    groups: dict[tuple[str, int], list[TradeRecord]] = {}
    for trade in trades:
        key = (trade.symbol, interval_start(trade.ts_ns, interval_s))
        groups.setdefault(key, []).append(trade)
    return [
        _candle(group, interval_s, start, source) for (_, start), group in sorted(groups.items())
    ]


class CandleAccumulator:
    """Builds one pair's candles from a live trade stream.

    ``add`` returns the candles a trade closes (the previous interval once a print of a later
    one arrives). A print for an interval already closed cannot change what was returned: it
    is counted in ``late`` (the stored trades still hold it for a rebuild).
    """

    def __init__(self, symbol: str, interval_s: int, source: CandleSource = "trades") -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.symbol = symbol
        self.interval_s = interval_s
        self.source: CandleSource = source
        self.late = 0
        self._start: int | None = None
        self._trades: list[TradeRecord] = []

    def add(self, trade: TradeRecord) -> list[CandleRecord]:
        if trade.symbol != self.symbol:
            raise ValueError(f"trade of {trade.symbol} given to the {self.symbol} accumulator")
        start = interval_start(trade.ts_ns, self.interval_s)
        if self._start is None or start == self._start:
            self._start = start
            self._trades.append(trade)
            return []
        if start < self._start:
            self.late += 1
            return []
        closed = self.flush()
        self._start = start
        self._trades = [trade]
        return closed

    def current(self) -> CandleRecord | None:
        """The open interval's candle so far, or None before the first trade."""
        if self._start is None or not self._trades:
            return None
        return _candle(self._trades, self.interval_s, self._start, self.source)

    def flush(self) -> list[CandleRecord]:
        """Close the open interval (at shutdown, or when time has passed it)."""
        candle = self.current()
        self._start = None
        self._trades = []
        return [candle] if candle is not None else []


@dataclass(frozen=True, slots=True)
class CandleMismatch:
    """One disagreement between a received and a trade-built candle of the same interval.

    ``field`` is a candle field, or ``missing_built`` / ``missing_received`` when only one
    side has the interval (then ``received``/``built`` hold the close of the side present).
    """

    symbol: str
    interval_s: int
    start_s: int
    field: str
    received: Decimal | int | None
    built: Decimal | int | None


_FIELDS = ("open", "high", "low", "close", "volume", "trades")


def reconcile(
    received: Iterable[CandleRecord], built: Iterable[CandleRecord]
) -> list[CandleMismatch]:
    """Every field where the candles of the same (symbol, interval, start) differ, and every
    interval only one side has. Compare closed intervals only: an interval the builder saw
    only part of (the first after a subscribe or a gap) differs by construction."""
    by_key = {(c.bar.symbol, c.bar.interval, c.bar.start): c.bar for c in received}
    made = {(c.bar.symbol, c.bar.interval, c.bar.start): c.bar for c in built}
    found: list[CandleMismatch] = []
    for key in sorted(by_key.keys() | made.keys()):
        got, ours = by_key.get(key), made.get(key)
        if got is None:
            assert ours is not None
            found.append(CandleMismatch(*key, "missing_received", None, ours.close))
        elif ours is None:
            found.append(CandleMismatch(*key, "missing_built", got.close, None))
        else:
            for name in _FIELDS:
                a, b = getattr(got, name), getattr(ours, name)
                if a != b:
                    found.append(CandleMismatch(*key, name, a, b))
    return found
