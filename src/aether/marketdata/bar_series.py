"""Series of bars from history: their holes, and resampling to coarser bars.

A series is one symbol and interval in increasing order; anything else is refused with
ValueError. Nothing here invents or forward-fills a bar: a hole stays a hole.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aether.domain.bars import Bar
from aether.marketdata.history_holes import Hole, missing_runs

__all__ = ["check_series", "find_holes", "resample"]

_ZERO = Decimal(0)


def check_series(bars: Sequence[Bar]) -> int:
    """The common interval of a one-symbol, strictly increasing series, else ValueError."""
    first = bars[0]
    interval = first.interval
    previous = first
    for bar in bars[1:]:
        if bar.interval != interval or bar.symbol != first.symbol:
            raise ValueError(
                f"series mixes bars: {first.symbol}/{interval}s and {bar.symbol}/{bar.interval}s"
            )
        if bar.start < previous.end:
            raise ValueError(
                f"{bar.symbol}: bar at {bar.start} overlaps or precedes the bar at {previous.start}"
            )
        previous = bar
    return interval


def find_holes(bars: Sequence[Bar]) -> list[Hole]:
    """Runs of missing intervals between consecutive bars (none before the first or after the last).

    The series must be one symbol and interval, in increasing order (else ValueError).
    """
    if not bars:
        return []
    interval = check_series(bars)
    return missing_runs((bar.start for bar in bars), interval, bars[0].start, bars[-1].end)


def resample(bars: Sequence[Bar], interval: int) -> list[Bar]:
    """Bars of a coarser ``interval`` (seconds, a multiple of the source's), aligned to the epoch.

    open=first, high=max, low=min, close=last, volume and trades summed. A bucket without any
    source bar is absent; a partly filled bucket (holes, or the series' edges) still yields a bar
    from the bars it has. The series must be one symbol and interval, in increasing order.
    """
    if not bars:
        return []
    source = check_series(bars)
    if interval <= 0 or interval % source:
        raise ValueError(
            f"cannot resample {source} s bars to {interval} s: "
            f"the target must be a positive multiple of {source} s"
        )
    # A source bar off its own grid could straddle two target buckets; refuse rather than split.
    for bar in bars:
        if bar.start % source:
            raise ValueError(f"{bar.symbol}: bar at {bar.start} is not aligned to {source} s")
    out: list[Bar] = []
    bucket_bars: list[Bar] = []
    bucket = bars[0].start - bars[0].start % interval
    for bar in bars:
        key = bar.start - bar.start % interval
        if key != bucket:
            out.append(_merge(bucket_bars, bucket, interval))
            bucket_bars = []
            bucket = key
        bucket_bars.append(bar)
    out.append(_merge(bucket_bars, bucket, interval))
    return out


def _merge(group: list[Bar], start: int, interval: int) -> Bar:
    first = group[0]
    return Bar(
        symbol=first.symbol,
        start=start,
        interval=interval,
        open=first.open,
        high=max(b.high for b in group),
        low=min(b.low for b in group),
        close=group[-1].close,
        volume=sum((b.volume for b in group), _ZERO),
        trades=sum(b.trades for b in group),
    )
