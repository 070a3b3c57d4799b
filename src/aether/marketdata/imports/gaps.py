"""Holes in a series of interval starts: the runs of intervals that have no row.

Pure: the backfill uses it over the candles it built from trades. Nothing here fills a
hole; the caller records it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MissingRun:
    """``missing`` intervals with no row, from ``start`` (inclusive) to ``end`` (exclusive),
    both epoch seconds."""

    start: int
    end: int
    missing: int


def missing_runs(
    starts: Iterable[int], interval_s: int, range_start: int, range_end: int
) -> list[MissingRun]:
    """Runs of ``interval_s`` intervals in ``[range_start, range_end)`` without a start in
    ``starts`` (also before the first and after the last).

    ``range_start`` and ``range_end`` must be aligned to ``interval_s``; starts outside the
    range are ignored, starts off the grid are a ValueError.
    """
    if interval_s <= 0:
        raise ValueError(f"interval_s must be positive, got {interval_s}")
    if range_start % interval_s or range_end % interval_s:
        raise ValueError(
            f"range [{range_start}, {range_end}) is not aligned to {interval_s} s intervals"
        )
    runs: list[MissingRun] = []
    expected = range_start
    for start in sorted(set(starts)):
        if start % interval_s:
            raise ValueError(f"start {start} is not aligned to {interval_s} s intervals")
        if start < range_start or start >= range_end:
            continue
        if start > expected:
            runs.append(MissingRun(expected, start, (start - expected) // interval_s))
        expected = start + interval_s
    if range_end > expected:
        runs.append(MissingRun(expected, range_end, (range_end - expected) // interval_s))
    return runs
