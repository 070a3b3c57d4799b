"""Per-pair freshness: when each followed pair last had data, and its stale/fresh state.

A pure state machine (times are given, never read): ``seen`` records data and answers
``MarketDataFresh`` when a stale pair flows again; ``check`` answers ``MarketDataStale`` once
per pair whose data is older than the threshold. A pair that never had data counts from
when it was first followed, so a subscription that never delivers turns stale too.
"""

from __future__ import annotations

from dataclasses import dataclass

from aether.domain.events import MarketDataFresh, MarketDataStale

NS = 1_000_000_000


@dataclass(slots=True)
class _PairFreshness:
    since_ns: int  # when the pair was first followed
    last_data_ns: int = 0  # 0: no data yet
    stale: bool = False


class FreshnessTracker:
    """Stale/fresh state of the followed pairs (symbols are altnames)."""

    def __init__(self, stale_after_seconds: float) -> None:
        if stale_after_seconds <= 0:
            raise ValueError(f"stale_after_seconds must be positive, got {stale_after_seconds}")
        self.stale_after_ns = int(stale_after_seconds * NS)
        self._pairs: dict[str, _PairFreshness] = {}

    def follow(self, symbol: str, now_ns: int) -> None:
        """Start watching ``symbol`` (no-op when already watched)."""
        self._pairs.setdefault(symbol, _PairFreshness(now_ns))

    def forget(self, symbol: str) -> None:
        """Stop watching ``symbol`` (an unsubscribed pair is neither stale nor fresh)."""
        self._pairs.pop(symbol, None)

    def symbols(self) -> list[str]:
        return list(self._pairs)

    def seen(self, symbol: str, now_ns: int) -> MarketDataFresh | None:
        """Data of ``symbol`` arrived at ``now_ns``; Fresh when it was stale. Unwatched
        symbols are ignored (late messages of a removed pair)."""
        pair = self._pairs.get(symbol)
        if pair is None:
            return None
        pair.last_data_ns = max(pair.last_data_ns, now_ns)
        if pair.stale:
            pair.stale = False
            return MarketDataFresh(symbol, now_ns)
        return None

    def check(self, now_ns: int) -> list[MarketDataStale]:
        """Pairs that just turned stale (each reported once until it is fresh again)."""
        turned = []
        for symbol, pair in self._pairs.items():
            if pair.stale:
                continue
            reference = pair.last_data_ns or pair.since_ns
            if now_ns - reference >= self.stale_after_ns:
                pair.stale = True
                turned.append(MarketDataStale(symbol, pair.last_data_ns, now_ns))
        return turned

    def is_stale(self, symbol: str) -> bool:
        pair = self._pairs.get(symbol)
        return pair is not None and pair.stale

    def age_seconds(self, symbol: str, now_ns: int) -> float | None:
        """Seconds since ``symbol``'s last data; None when unwatched or without data yet."""
        pair = self._pairs.get(symbol)
        if pair is None or pair.last_data_ns == 0:
            return None
        return max(0, now_ns - pair.last_data_ns) / NS
