"""Bar replay: hand-made bars become trades that keep the bar's open, extremes, close, volume
and interval; gaps stay gaps; everything is deterministic for a seed."""

from __future__ import annotations

import itertools
from decimal import Decimal as D

import pytest

from aether.domain.bars import Bar
from aether.domain.orders import Side
from aether.emulator.market.generator import (
    MarketConfigError,
    MarketGenerator,
    MarketStep,
    PairGrid,
)
from aether.emulator.market.replay import BarReplay, parse_ohlcvt, replay_bar, shipped_bars

NS = 1_000_000_000
HOUR = 3600
T0 = 1_700_000_000  # a bar time, in seconds
GRID = PairGrid("XBT/USD", D("0.1"), 8)


def bar(o: str, h: str, lo: str, c: str, v: str = "3.5", trades: int = 50, *, hour: int = 0) -> Bar:
    return Bar("XBTUSD", T0 + hour * HOUR, HOUR, D(o), D(h), D(lo), D(c), D(v), trades)


def prices(step: MarketStep) -> list[D]:
    return [t.price for t in step.trades]


def only_step(bars: list[Bar], **kwargs: object) -> MarketStep:
    steps = list(BarReplay(bars, GRID, **kwargs).steps(0))  # type: ignore[arg-type]
    assert len(steps) == 1
    return steps[0]


HIGH_FIRST = bar("100.0", "101.0", "95.0", "98.0")  # the high is nearer the open
LOW_FIRST = bar("100.0", "105.0", "99.0", "104.0")  # the low is nearer the open
HAND_MADE = [
    HIGH_FIRST,
    LOW_FIRST,
    bar("100.0", "102.0", "98.0", "101.0"),  # tie, closes up: low first
    bar("100.0", "102.0", "98.0", "99.0"),  # tie, closes down: high first
    bar("100.0", "100.0", "97.3", "97.3"),  # opens at the high, closes at the low
    bar("6603.8", "6633.3", "6603.8", "6626.2", "47.34149785", 185),  # the slice's first row
]


@pytest.mark.parametrize("b", HAND_MADE)
def test_trades_keep_the_bar(b: Bar) -> None:
    step = only_step([b])
    ps = prices(step)
    assert ps[0] == b.open
    assert ps[-1] == b.close == step.last_price
    assert max(ps) == b.high
    assert min(ps) == b.low
    assert all(b.low <= p <= b.high for p in ps)
    assert sum(t.qty for t in step.trades) == b.volume
    assert all(t.qty > 0 and t.qty == t.qty.quantize(D("1E-8")) for t in step.trades)
    assert all(p == p.quantize(D("0.1")) for p in ps)
    times = [t.ts_ns for t in step.trades]
    assert times == sorted(set(times))  # strictly increasing
    assert step.ts_ns <= times[0]
    assert times[-1] < step.ts_ns + HOUR * NS
    assert step.regime is None
    assert step.pair == "XBT/USD"


@pytest.mark.parametrize(
    ("b", "high_first"),
    [(HIGH_FIRST, True), (LOW_FIRST, False), (HAND_MADE[2], False), (HAND_MADE[3], True)],
)
def test_the_nearer_extreme_comes_first(b: Bar, high_first: bool) -> None:
    ps = prices(only_step([b]))
    assert (ps.index(b.high) < ps.index(b.low)) is high_first


def test_trade_count_follows_the_bar_within_the_cap() -> None:
    assert len(only_step([bar("100.0", "101.0", "95.0", "98.0", trades=7)]).trades) == 7
    assert len(only_step([bar("100.0", "101.0", "95.0", "98.0", trades=185)]).trades) == 20
    capped = only_step([bar("100.0", "101.0", "95.0", "98.0", trades=185)], max_trades_per_bar=6)
    assert len(capped.trades) == 6
    # Two reported trades cannot show four different prices: the path needs four.
    four = only_step([bar("100.0", "101.0", "95.0", "98.0", trades=2)])
    assert prices(four) == [D("100.0"), D("101.0"), D("95.0"), D("98.0")]


def test_a_flat_bar_prints_one_price() -> None:
    step = only_step([bar("100.0", "100.0", "100.0", "100.0", "0.3", trades=5)])
    assert prices(step) == [D("100.0")] * 5
    assert sum(t.qty for t in step.trades) == D("0.3")


def test_volume_is_rounded_down_to_the_lot() -> None:
    step = only_step([bar("100.0", "101.0", "95.0", "98.0", "1.123456789")])
    assert sum(t.qty for t in step.trades) == D("1.12345678")
    huge = only_step([bar("100.0", "101.0", "95.0", "98.0", "123456789012.12345678")])
    assert sum(t.qty for t in huge.trades) == D("123456789012.12345678")


def test_too_few_lots_shorten_the_path() -> None:
    two = only_step([bar("100.0", "101.0", "95.0", "98.0", "0.00000002")])
    assert prices(two) == [D("100.0"), D("98.0")]
    assert [t.qty for t in two.trades] == [D("0.00000001")] * 2
    one = only_step([bar("100.0", "101.0", "95.0", "98.0", "0.00000001")])
    assert prices(one) == [D("98.0")]


def test_sides_follow_the_tick_rule() -> None:
    trades = only_step([HAND_MADE[-1]]).trades
    for before, after in itertools.pairwise(trades):
        if after.price > before.price:
            assert after.side is Side.BUY
        elif after.price < before.price:
            assert after.side is Side.SELL
        else:
            assert after.side is before.side


def test_missing_hours_and_empty_bars_give_no_trades() -> None:
    bars = [
        bar("100.0", "101.0", "99.0", "100.5", hour=0),
        bar("100.5", "100.5", "100.5", "100.5", "0", 0, hour=1),  # no volume
        bar("100.5", "102.0", "100.0", "101.0", hour=3),  # hour 2 is missing
    ]
    start = 7 * NS
    steps = list(BarReplay(bars, GRID).steps(start))
    assert [s.ts_ns for s in steps] == [start, start + 3 * HOUR * NS]
    times = [t.ts_ns for s in steps for t in s.trades]
    assert not [t for t in times if start + HOUR * NS <= t < start + 3 * HOUR * NS]


def test_speed_maps_bar_time_to_emulator_time() -> None:
    bars = [bar("100.0", "101.0", "99.0", "100.5", hour=h) for h in (0, 1, 5)]
    steps = list(BarReplay(bars, GRID, speed=3600).steps(10 * NS))
    assert [s.ts_ns for s in steps] == [10 * NS, 11 * NS, 15 * NS]
    for step in steps:  # an hour of trades now fits in one second
        assert all(step.ts_ns <= t.ts_ns < step.ts_ns + NS for t in step.trades)


def test_same_seed_same_trades_other_seed_other_trades() -> None:
    def run(seed: int) -> list[MarketStep]:
        bars = [bar("100.0", "101.0", "95.0", "98.0", hour=h) for h in range(5)]
        return list(BarReplay(bars, GRID, seed=seed).steps(0))

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_a_bar_replays_the_same_wherever_the_replay_starts() -> None:
    bars = [bar("100.0", "101.0", "99.0", "100.5", hour=h) for h in range(4)]
    whole = list(BarReplay(bars, GRID, seed=9).steps(0))
    tail = list(BarReplay(bars[2:], GRID, seed=9).steps(2 * HOUR * NS))
    assert whole[2:] == tail


def test_replay_bar_refuses_a_window_too_short_for_its_trades() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        replay_bar(HIGH_FIRST, GRID, 0, 10, max_trades=20)


def test_settings_are_checked() -> None:
    with pytest.raises(MarketConfigError) as caught:
        BarReplay([HIGH_FIRST], GRID, max_trades_per_bar=3)
    assert caught.value.field == "max_trades_per_bar"
    with pytest.raises(MarketConfigError) as caught:
        BarReplay([HIGH_FIRST], GRID, speed=0)
    assert caught.value.field == "speed"
    with pytest.raises(MarketConfigError) as caught:
        BarReplay([HIGH_FIRST], GRID, speed=10**12)  # an hour in 3.6 ms: 20 trades do not fit
    assert caught.value.field == "speed"
    with pytest.raises(MarketConfigError) as caught:
        BarReplay([HIGH_FIRST, HIGH_FIRST], GRID)
    assert caught.value.field == "bars"


def test_an_inconsistent_bar_is_refused() -> None:
    broken = bar("100.0", "101.0", "100.5", "98.0")  # the close is below the low
    with pytest.raises(ValueError, match="within"):
        list(BarReplay([broken], GRID).steps(0))


def test_parse_ohlcvt_reads_kraken_rows() -> None:
    rows = ["1538352000,6603.8,6633.3,6603.8,6626.2,47.34149785,185", "", "  "]
    (only,) = parse_ohlcvt(rows, "XBTUSD", HOUR)
    assert only == Bar(
        "XBTUSD",
        1538352000,
        HOUR,
        D("6603.8"),
        D("6633.3"),
        D("6603.8"),
        D("6626.2"),
        D("47.34149785"),
        185,
    )
    with pytest.raises(ValueError, match="line 2: expected 7 columns"):
        parse_ohlcvt([rows[0], "1,2,3"], "XBTUSD", HOUR)
    with pytest.raises(ValueError, match="line 1: not an OHLCVT row"):
        parse_ohlcvt(["time,open,high,low,close,volume,count"], "XBTUSD", HOUR)


def test_the_whole_shipped_slice_replays_within_every_bar() -> None:
    bars = shipped_bars()
    assert len(bars) == 17_541
    replay: MarketGenerator = BarReplay(bars, GRID, seed=1)
    by_start = {b.start: b for b in bars}
    origin = bars[0].start
    count = 0
    for step in replay.steps(0):
        b = by_start[origin + step.ts_ns // NS]
        # Early rows carry prices finer than today's 0.1 tick: they replay at the nearest tick.
        ohlc = [GRID.price(GRID.ticks(p)) for p in (b.open, b.close, b.low, b.high)]
        ps = [t.price for t in step.trades]
        assert [ps[0], ps[-1], min(ps), max(ps)] == ohlc
        assert sum(t.qty for t in step.trades) == GRID.quantity(GRID.lots(b.volume))
        count += len(step.trades)
    assert count > 17_541 * 15
