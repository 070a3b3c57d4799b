"""The ingest's open gaps: one per (pair, channel) from the moment data may have been
missed until data of that channel flows again.

A second loss while a gap is open is part of it, not a new gap. Both the opening and the
closing record go to storage (the store keeps one row and sets its end), so a gap is
visible while it lasts and after.
"""

from __future__ import annotations

from aether.marketdata.records import INGEST_SOURCE, GapRecord


class OpenGaps:
    def __init__(self) -> None:
        self._open: dict[tuple[str, str], GapRecord] = {}

    def open(self, symbol: str, kind: str, ts_ns: int, reason: str) -> GapRecord | None:
        """The new gap to record, or None when one is already open for the channel."""
        key = (symbol, kind)
        if key in self._open:
            return None
        gap = GapRecord(symbol, kind, ts_ns, None, reason, INGEST_SOURCE)
        self._open[key] = gap
        return gap

    def close(self, symbol: str, kind: str, now_ns: int) -> GapRecord | None:
        """The closed gap to record when the channel had one open, else None."""
        gap = self._open.pop((symbol, kind), None)
        if gap is None:
            return None
        end = max(now_ns, gap.start_ns)
        return GapRecord(gap.symbol, gap.kind, gap.start_ns, end, gap.reason, gap.source)

    def forget(self, symbol: str, now_ns: int) -> list[GapRecord]:
        """Close every open gap of a pair no longer followed (its data stops by choice)."""
        kinds = [kind for (pair, kind) in self._open if pair == symbol]
        return [gap for kind in kinds if (gap := self.close(symbol, kind, now_ns)) is not None]
