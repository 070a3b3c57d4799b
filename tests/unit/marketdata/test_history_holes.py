"""Runs of missing intervals, including before the first and after the last row."""

from __future__ import annotations

import pytest

from aether.marketdata.history_holes import Hole, missing_runs


def test_no_hole_when_every_interval_has_a_row() -> None:
    assert missing_runs([0, 60, 120], 60, 0, 180) == []


def test_inner_leading_and_trailing_runs() -> None:
    runs = missing_runs([120, 180, 360], 60, 0, 540)
    assert runs == [Hole(0, 120, 2), Hole(240, 360, 2), Hole(420, 540, 2)]


def test_starts_outside_the_range_and_duplicates_are_ignored() -> None:
    assert missing_runs([-60, 0, 0, 60, 600], 60, 0, 120) == []


def test_an_empty_series_is_one_run_over_the_whole_range() -> None:
    assert missing_runs([], 3600, 0, 7200) == [Hole(0, 7200, 2)]


def test_bounds_are_rounded_up_and_a_start_off_the_grid_occupies_its_interval() -> None:
    # [30, 150) holds the interval starts 60 and 120.
    assert missing_runs([], 60, 30, 150) == [Hole(60, 180, 2)]
    assert missing_runs([75, 130], 60, 30, 150) == []
    assert missing_runs([10, 125], 60, 0, 180) == [Hole(60, 120, 1)]


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        missing_runs([0], 0, 0, 60)
