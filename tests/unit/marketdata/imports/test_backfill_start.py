"""Where a backfill starts: --since, the end of the bulk CSV, or the saved cursor."""

from __future__ import annotations

import pytest

from aether.marketdata.imports.backfill import StartPoint, start_point
from aether.marketdata.imports.errors import ImportInputError

NS = 1_000_000_000
H = 3600


def test_since_is_rounded_down_to_the_interval() -> None:
    assert start_point("XBTUSD", H, 10 * H + 5, None, None) == StartPoint(
        10 * H, 10 * H * NS - 1, False
    )


def test_without_since_it_joins_the_bulk_csv_end() -> None:
    assert start_point("XBTUSD", H, None, 20 * H, None) == StartPoint(
        20 * H, 20 * H * NS - 1, False
    )


def test_a_rerun_inside_the_saved_run_continues_from_its_cursor() -> None:
    saved = {"since_s": 10 * H, "last_ns": 15 * H * NS + 7}
    assert start_point("XBTUSD", H, 10 * H, None, saved) == StartPoint(
        10 * H, 15 * H * NS + 7, True
    )
    assert start_point("XBTUSD", H, 12 * H, None, saved).resumed


def test_only_the_saved_cursor_is_enough_to_continue() -> None:
    saved = {"since_s": 10 * H, "last_ns": 15 * H * NS}
    assert start_point("XBTUSD", H, None, None, saved) == StartPoint(10 * H, 15 * H * NS, True)


def test_a_start_outside_the_saved_run_starts_over_there() -> None:
    saved = {"since_s": 10 * H, "last_ns": 15 * H * NS}
    assert start_point("XBTUSD", H, 5 * H, None, saved) == StartPoint(5 * H, 5 * H * NS - 1, False)
    assert start_point("XBTUSD", H, 16 * H, None, saved) == StartPoint(
        16 * H, 16 * H * NS - 1, False
    )


def test_nothing_to_start_from_asks_for_since() -> None:
    with pytest.raises(ImportInputError, match=r"XBTUSD: no --since .* pass --since"):
        start_point("XBTUSD", H, None, None, None)


def test_a_corrupt_cursor_is_refused_naming_the_job() -> None:
    with pytest.raises(ImportInputError, match=r"backfill:XBTUSD.*last_ns"):
        start_point("XBTUSD", H, None, None, {"since_s": 1})
