"""Live candles built from the ingest's trades, reconciled with the candles Kraken sends.

Rules a caller must know:

* ``trade`` returns the built candles to store. The first candle of a pair after it was
  followed or after ``reset`` (a gap in its trades) is partial by construction and is
  neither stored nor reconciled: a stored candle is always the whole interval as seen.
* ``received`` takes Kraken's candle so far; once a candle of a later interval arrives, the
  earlier interval is final and the built candle of it (if any) is compared field by field.
  ``take_mismatches`` hands over what the comparisons found since it was last called.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aether.marketdata.candle_builder import CandleAccumulator, CandleMismatch, reconcile
from aether.marketdata.records import CandleRecord, TradeRecord

#: Intervals kept per pair while waiting for Kraken's final candle (bounds memory when
#: Kraken's candles stop arriving).
_PENDING_LIMIT = 64


@dataclass(slots=True)
class _PairCandles:
    builder: CandleAccumulator
    partial: bool = True  # the builder's first interval started mid-way
    built: dict[int, CandleRecord] = field(default_factory=dict)  # start -> awaiting check
    received: dict[int, CandleRecord] = field(default_factory=dict)  # start -> latest


class LiveCandles:
    """Trade-built candles of every followed pair at one interval."""

    def __init__(self, interval_s: int) -> None:
        self.interval_s = interval_s
        self._pairs: dict[str, _PairCandles] = {}
        self._found: list[CandleMismatch] = []

    def _pair(self, symbol: str) -> _PairCandles:
        pair = self._pairs.get(symbol)
        if pair is None:
            pair = _PairCandles(CandleAccumulator(symbol, self.interval_s))
            self._pairs[symbol] = pair
        return pair

    def reset(self, symbol: str) -> None:
        """Trades of ``symbol`` may have been missed: its open interval is partial now."""
        pair = self._pairs.get(symbol)
        if pair is not None:
            pair.builder = CandleAccumulator(symbol, self.interval_s)
            pair.partial = True

    def forget(self, symbol: str) -> None:
        self._pairs.pop(symbol, None)

    def trade(self, trade: TradeRecord, *, check: bool) -> list[CandleRecord]:
        """Add a trade; the complete candles it closed. With ``check`` they also wait for
        Kraken's candle of the same interval."""
        pair = self._pair(trade.symbol)
        closed = pair.builder.add(trade)
        if closed and pair.partial:
            pair.partial = False
            return []
        if check and closed:  # nothing new to compare until a candle closes
            for candle in closed:
                pair.built[candle.bar.start] = candle
            while len(pair.built) > _PENDING_LIMIT:
                del pair.built[min(pair.built)]
            self._settle(pair)
        return closed

    def received(self, candle: CandleRecord) -> None:
        """Kraken's candle so far (a later one makes the earlier intervals final)."""
        if candle.bar.interval != self.interval_s:
            return
        pair = self._pair(candle.bar.symbol)
        pair.received[candle.bar.start] = candle
        self._settle(pair)

    def take_mismatches(self) -> list[CandleMismatch]:
        """Mismatches found since the last call."""
        found, self._found = self._found, []
        return found

    def _settle(self, pair: _PairCandles) -> None:
        """Compare every built candle whose interval Kraken has moved past."""
        if not pair.received:
            return
        latest = max(pair.received)
        for start in sorted(s for s in pair.built if s < latest):
            built = pair.built.pop(start)
            got = pair.received.get(start)
            self._found += reconcile([got] if got is not None else [], [built])
        while len(pair.received) > _PENDING_LIMIT:
            del pair.received[min(pair.received)]
