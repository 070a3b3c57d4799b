"""Holes in a history series: the runs of intervals that have no row.

One definition for the CSV import, the trade backfill and the history API. Pure and in
epoch seconds; nothing here fills a hole, the caller reports or records it. (A *recorded
gap* is something else: a ``market_gaps`` row saying data was lost, see ``records``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Hole:
    """``missing`` intervals with no row, from ``start`` (inclusive) to ``end`` (exclusive),
    both epoch seconds."""

    start: int
    end: int
    missing: int


def missing_runs(
    starts: Iterable[int], interval_s: int, range_start: int, range_end: int
) -> list[Hole]:
    """Runs of ``interval_s`` intervals starting in ``[range_start, range_end)`` that no
    start in ``starts`` occupies, before the first and after the last included.

    Interval starts are epoch multiples of ``interval_s``: the bounds are rounded up to the
    grid, a start off it occupies the interval it falls in, and starts outside the range
    are ignored.
    """
    if interval_s <= 0:
        raise ValueError(f"interval_s must be positive, got {interval_s}")
    expected = -(-range_start // interval_s) * interval_s
    stop = -(-range_end // interval_s) * interval_s
    runs: list[Hole] = []
    for slot in sorted({start - start % interval_s for start in starts}):
        if slot >= stop:
            break
        if slot > expected:
            runs.append(Hole(expected, slot, (slot - expected) // interval_s))
        expected = max(expected, slot + interval_s)
    if stop > expected:
        runs.append(Hole(expected, stop, (stop - expected) // interval_s))
    return runs
