"""Runs of missing intervals, including before the first and after the last row."""

from __future__ import annotations

import pytest

from aether.marketdata.imports.gaps import MissingRun, missing_runs


def test_no_gap_when_every_interval_has_a_row() -> None:
    assert missing_runs([0, 60, 120], 60, 0, 180) == []


def test_inner_leading_and_trailing_runs() -> None:
    runs = missing_runs([120, 180, 360], 60, 0, 540)
    assert runs == [MissingRun(0, 120, 2), MissingRun(240, 360, 2), MissingRun(420, 540, 2)]


def test_starts_outside_the_range_and_duplicates_are_ignored() -> None:
    assert missing_runs([-60, 0, 0, 60, 600], 60, 0, 120) == []


def test_an_empty_series_is_one_run_over_the_whole_range() -> None:
    assert missing_runs([], 3600, 0, 7200) == [MissingRun(0, 7200, 2)]


@pytest.mark.parametrize(
    ("starts", "interval", "lo", "hi"),
    [([30], 60, 0, 120), ([0], 60, 10, 120), ([0], 0, 0, 60)],
)
def test_misaligned_input_is_refused(starts: list[int], interval: int, lo: int, hi: int) -> None:
    with pytest.raises(ValueError, match=r"align|positive"):
        missing_runs(starts, interval, lo, hi)
