"""The freshness state machine with an injected clock: stale once, fresh once, per pair."""

from __future__ import annotations

import pytest

from aether.domain.events import MarketDataFresh, MarketDataStale
from aether.marketdata.freshness import FreshnessTracker

S = 1_000_000_000


def test_a_pair_turns_stale_once_and_fresh_when_data_flows() -> None:
    tracker = FreshnessTracker(10)
    tracker.follow("XBTUSD", 0)
    assert tracker.seen("XBTUSD", 1 * S) is None
    assert tracker.check(10 * S) == []  # 9 s old
    assert tracker.check(11 * S) == [MarketDataStale("XBTUSD", 1 * S, 11 * S)]
    assert tracker.is_stale("XBTUSD")
    assert tracker.check(30 * S) == []  # reported once
    assert tracker.seen("XBTUSD", 31 * S) == MarketDataFresh("XBTUSD", 31 * S)
    assert tracker.seen("XBTUSD", 32 * S) is None
    assert tracker.age_seconds("XBTUSD", 34 * S) == 2.0


def test_a_pair_that_never_had_data_is_stale_from_when_it_was_followed() -> None:
    tracker = FreshnessTracker(5)
    tracker.follow("ETHUSD", 100 * S)
    assert tracker.age_seconds("ETHUSD", 101 * S) is None
    assert tracker.check(104 * S) == []
    assert tracker.check(105 * S) == [MarketDataStale("ETHUSD", 0, 105 * S)]


def test_pairs_are_independent_and_forgotten_pairs_are_silent() -> None:
    tracker = FreshnessTracker(5)
    tracker.follow("XBTUSD", 0)
    tracker.follow("ETHUSD", 0)
    tracker.seen("ETHUSD", 4 * S)
    assert [e.symbol for e in tracker.check(6 * S)] == ["XBTUSD"]
    tracker.forget("XBTUSD")
    assert tracker.seen("XBTUSD", 7 * S) is None
    assert [e.symbol for e in tracker.check(9 * S)] == ["ETHUSD"]
    assert tracker.symbols() == ["ETHUSD"]


def test_a_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="stale_after_seconds"):
        FreshnessTracker(0)


def test_open_gaps_open_once_close_with_an_end_and_close_when_forgotten() -> None:
    from aether.marketdata.feed.gaps import OpenGaps

    gaps = OpenGaps()
    first = gaps.open("XBTUSD", "trade", 10, "websocket: connection lost")
    assert first is not None
    assert first.end_ns is None
    assert gaps.open("XBTUSD", "trade", 12, "websocket: checksum mismatch") is None
    closed = gaps.close("XBTUSD", "trade", 20)
    assert closed is not None
    assert (closed.start_ns, closed.end_ns, closed.reason) == (10, 20, first.reason)
    assert gaps.close("XBTUSD", "trade", 21) is None
    gaps.open("ETHUSD", "book", 30, "websocket: connection lost")
    gaps.open("ETHUSD", "trade", 31, "websocket: connection lost")
    assert sorted((g.kind, g.end_ns) for g in gaps.forget("ETHUSD", 40)) == [
        ("book", 40),
        ("trade", 40),
    ]
    assert gaps.forget("ETHUSD", 41) == []
