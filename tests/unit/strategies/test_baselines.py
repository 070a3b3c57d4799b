"""The baseline strategies act on crossings and breakouts, and parse their parameters."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aether.domain.bars import Bar
from aether.engine.indicators import AverageTrueRange, RollingExtremes, RollingMean
from aether.strategies.breakout import Breakout
from aether.strategies.catalogue import StrategyParamError, build_strategy
from aether.strategies.sma_cross import SmaCross


class Recorder:
    """A StrategyContext that records what the strategy asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.held = D(0)
        self.now_ns = 0

    def target_long(self, symbol: str, reason: str = "signal") -> str:
        self.calls.append(("long", self.now_ns))
        self.held = D(1)
        return "x"

    def target_flat(self, symbol: str, reason: str = "signal") -> str:
        self.calls.append(("flat", self.now_ns))
        self.held = D(0)
        return "y"

    def position(self, symbol: str) -> D:
        return self.held


def bars(closes: list[float], spread: float = 0.0) -> list[Bar]:
    out = []
    for i, c in enumerate(closes):
        close = D(str(c))
        s = D(str(spread))
        out.append(Bar("XBTUSD", i * 3600, 3600, close, close + s, close - s, close, D(1), 1))
    return out


def drive(strategy: object, series: list[Bar]) -> Recorder:
    ctx = Recorder()
    for i, b in enumerate(series):
        ctx.now_ns = i
        strategy.on_bar(ctx, b)  # type: ignore[attr-defined]
    return ctx


def test_sma_cross_enters_on_the_upward_cross_and_leaves_on_the_downward_one() -> None:
    closes = [10.0] * 5 + [11.0, 12.0, 13.0] + [9.0, 8.0, 7.0]
    ctx = drive(SmaCross(2, 4), bars(closes))
    # Flat series: fast == slow (not above). First above at index 5, first below at index 8.
    assert ctx.calls == [("long", 5), ("flat", 8)]


def test_sma_cross_does_not_act_on_the_first_reading() -> None:
    ctx = drive(SmaCross(2, 3), bars([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert ctx.calls == []  # above from the first full window: a state, not a crossing


def test_breakout_buys_a_close_above_the_channel_and_sells_below_the_exit_channel() -> None:
    closes = [10.0, 10.5, 10.2, 10.4, 11.0, 10.8, 10.9, 10.1, 9.0]
    ctx = drive(Breakout(entry=3, exit=2), bars(closes, spread=0.1))
    # Index 4: 11.0 > max high of 1..3 (10.6). Index 7: 10.1 < min low of 5..6 (10.7).
    assert ctx.calls == [("long", 4), ("flat", 7)]


def test_catalogue_parses_parameters_and_refuses_bad_ones_by_name() -> None:
    strategy, values = build_strategy("sma_cross", {"fast": "5"})
    assert isinstance(strategy, SmaCross)
    assert values == {"fast": 5, "slow": 50}
    with pytest.raises(StrategyParamError, match="unknown strategy 'nope'"):
        build_strategy("nope", {})
    with pytest.raises(StrategyParamError, match="no parameter 'speed'"):
        build_strategy("sma_cross", {"speed": "1"})
    with pytest.raises(StrategyParamError, match="fast='x': expected an integer"):
        build_strategy("sma_cross", {"fast": "x"})
    with pytest.raises(StrategyParamError, match="fast < slow"):
        build_strategy("sma_cross", {"fast": "50", "slow": "20"})
    with pytest.raises(StrategyParamError, match="entry >= 2"):
        build_strategy("breakout", {"entry": "1"})


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=200), st.integers(1, 20))
def test_rolling_mean_matches_the_plain_mean(values: list[float], period: int) -> None:
    mean = RollingMean(period)
    for i, x in enumerate(values):
        got = mean.update(x)
        if i + 1 < period:
            assert got is None
        else:
            window = values[i + 1 - period : i + 1]
            assert got == pytest.approx(sum(window) / period, rel=1e-9, abs=1e-6)


@given(
    st.lists(st.tuples(st.floats(0, 1e6), st.floats(0, 1e6)), min_size=1, max_size=200),
    st.integers(1, 20),
)
def test_rolling_extremes_match_the_window(pairs: list[tuple[float, float]], period: int) -> None:
    channel = RollingExtremes(period)
    for i, (a, b) in enumerate(pairs):
        channel.update(max(a, b), min(a, b))
        window = pairs[max(0, i + 1 - period) : i + 1]
        assert channel.ready == (i + 1 >= period)
        assert channel.high == max(max(p) for p in window)
        assert channel.low == min(min(p) for p in window)


def test_atr_is_wilders_average_of_true_ranges() -> None:
    atr = AverageTrueRange(2)
    assert atr.update(11, 9, 10) is None  # TR 2
    assert atr.update(12, 10, 11) == 2.0  # TR 2 -> mean 2
    assert atr.update(15, 11, 14) == 3.0  # TR 4 -> 2 + (4 - 2) / 2
    assert atr.update(14, 13, 13.5) == 2.0  # TR max(14,14)-min(13,14) = 1 -> 3 + (1 - 3) / 2
