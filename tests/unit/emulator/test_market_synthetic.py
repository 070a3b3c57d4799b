"""The regime-switching market: deterministic per seed, the true regime recorded for every
step, each regime's drift and volatility visible in its returns, and the transition matrix
checked with errors that name the faulty field."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from decimal import Decimal as D
from itertools import islice, pairwise

import pytest

from aether.emulator.market.generator import (
    MarketConfigError,
    MarketGenerator,
    MarketStep,
    PairGrid,
    Regime,
)
from aether.emulator.market.synthetic import (
    DEFAULT_REGIMES,
    RegimeParams,
    SyntheticConfig,
    SyntheticMarket,
    default_transitions,
)

NS = 1_000_000_000
GRID = PairGrid("XBT/USD", D("0.1"), 8)
UP, DOWN, SIDE, WILD = (
    Regime.TRENDING_UP,
    Regime.TRENDING_DOWN,
    Regime.SIDEWAYS,
    Regime.HIGH_VOLATILITY,
)


def take(market: SyntheticMarket, n: int, start_ns: int = 0) -> list[MarketStep]:
    return list(islice(market.steps(start_ns), n))


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    assert take(SyntheticMarket(GRID, seed=5), 300) == take(SyntheticMarket(GRID, seed=5), 300)
    assert take(SyntheticMarket(GRID, seed=5), 300) != take(SyntheticMarket(GRID, seed=6), 300)


def test_each_call_to_steps_starts_over() -> None:
    market = SyntheticMarket(GRID, seed=2)
    first = take(market, 100)
    assert take(market, 100) == first


def test_the_true_regime_is_recorded_for_every_step() -> None:
    market = SyntheticMarket(GRID, seed=1)
    steps = take(market, 500, start_ns=42)
    history = market.regimes()
    assert len(history) == len(steps) == 500
    assert history == tuple((s.ts_ns, s.regime) for s in steps)
    assert steps[0].regime is SIDE  # the default initial regime
    assert len(set(r for _, r in history)) > 1  # it does switch
    take(market, 10)
    assert len(market.regimes()) == 10  # a new run starts a new record


def test_steps_are_timed_and_on_the_grid() -> None:
    config = SyntheticConfig(step_seconds=60, trades_per_step=4)
    steps = take(SyntheticMarket(GRID, config, seed=3), 300, start_ns=1000)
    counts = set()
    for i, step in enumerate(steps):
        assert step.ts_ns == 1000 + i * 60 * NS
        assert step.pair == "XBT/USD"
        times = [t.ts_ns for t in step.trades]
        assert times == sorted(set(times))
        assert step.ts_ns <= times[0]
        assert times[-1] < step.ts_ns + 60 * NS
        assert step.last_price == step.trades[-1].price
        for t in step.trades:
            assert t.price > 0
            assert t.price == t.price.quantize(D("0.1"))
            assert t.qty > 0
            assert t.qty == t.qty.quantize(D("1E-8"))
        counts.add(len(step.trades))
    assert counts == set(range(1, 8))  # between 1 and 2 * 4 - 1 trades


def test_each_regime_moves_as_configured() -> None:
    config = SyntheticConfig(step_seconds=3600)
    steps = take(SyntheticMarket(GRID, config, seed=11), 20_000)
    returns: dict[Regime | None, list[float]] = defaultdict(list)
    before = config.start_price
    for step in steps:
        returns[step.regime].append(math.log(step.last_price / before))
        before = step.last_price
    mean = {r: statistics.fmean(v) for r, v in returns.items()}
    vol = {r: statistics.pstdev(v) for r, v in returns.items()}
    assert all(len(returns[r]) > 1000 for r in Regime)
    assert mean[UP] > 0.0004
    assert mean[DOWN] < -0.0004
    assert abs(mean[SIDE]) < 0.0002
    assert vol[WILD] > 2 * vol[UP]
    assert vol[WILD] > 2 * vol[DOWN]
    assert min(vol[UP], vol[DOWN]) > 1.5 * vol[SIDE]
    for regime, params in DEFAULT_REGIMES.items():  # hourly steps: the figures themselves
        assert vol[regime] == pytest.approx(params.vol_per_hour, rel=0.1)


def test_parameters_scale_with_the_step_length() -> None:
    config = SyntheticConfig(step_seconds=900, transitions=_always(SIDE), initial_regime=SIDE)
    steps = take(SyntheticMarket(GRID, config, seed=4), 5000)
    closes = [config.start_price] + [s.last_price for s in steps]
    returns = [math.log(b / a) for a, b in pairwise(closes)]
    # A quarter-hour step carries half the hourly volatility.
    assert statistics.pstdev(returns) == pytest.approx(0.002 / 2, rel=0.1)


def _always(regime: Regime) -> dict[Regime, dict[Regime, float]]:
    rows = default_transitions()
    rows[regime] = {r: 1.0 if r is regime else 0.0 for r in Regime}
    return rows


def test_an_absorbing_regime_is_never_left() -> None:
    config = SyntheticConfig(transitions=_always(WILD), initial_regime=WILD)
    market = SyntheticMarket(GRID, config, seed=8)
    take(market, 300)
    assert {r for _, r in market.regimes()} == {WILD}


def test_switching_follows_the_matrix() -> None:
    stay = {UP: 0.9, DOWN: 0.9, SIDE: 0.9, WILD: 0.9}
    market = SyntheticMarket(GRID, SyntheticConfig(transitions=default_transitions(stay)), seed=3)
    take(market, 20_000)
    regimes = [r for _, r in market.regimes()]
    stays = sum(a is b for a, b in pairwise(regimes))
    assert stays / (len(regimes) - 1) == pytest.approx(0.9, abs=0.01)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({UP: {UP: 0.5, DOWN: 0.4}}, "transitions[trending_up]", "row sums to 0.9"),
        (
            {SIDE: {SIDE: 1.2, UP: -0.2}},
            "transitions[sideways][sideways]",
            r"probability 1.2 is outside \[0, 1\]",
        ),
        (
            {WILD: {WILD: 1.5, DOWN: -0.5}},
            "transitions[high_volatility][high_volatility]",
            "probability 1.5 is outside",
        ),
        ({DOWN: {DOWN: 1.0, UP: math.nan}}, "transitions[trending_down][trending_up]", "outside"),
    ],
)
def test_a_bad_transition_matrix_names_the_field(
    change: dict[Regime, dict[Regime, float]], field: str, message: str
) -> None:
    rows = default_transitions()
    rows.update(change)
    with pytest.raises(MarketConfigError, match=message) as caught:
        SyntheticConfig(transitions=rows)
    assert caught.value.field == field


def test_a_missing_row_or_regime_names_the_field() -> None:
    rows = default_transitions()
    del rows[WILD]
    with pytest.raises(MarketConfigError) as caught:
        SyntheticConfig(transitions=rows)
    assert caught.value.field == "transitions[high_volatility]"
    params = dict(DEFAULT_REGIMES)
    del params[UP]
    with pytest.raises(MarketConfigError) as caught:
        SyntheticConfig(regimes=params)
    assert caught.value.field == "regimes[trending_up]"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"regimes": {**DEFAULT_REGIMES, SIDE: RegimeParams(0.0, -0.1)}}, "vol_per_hour"),
        ({"regimes": {**DEFAULT_REGIMES, UP: RegimeParams(math.inf, 0.1)}}, "drift_per_hour"),
        ({"step_seconds": 0}, "step_seconds"),
        ({"trades_per_step": 0}, "trades_per_step"),
        ({"start_price": D(0)}, "start_price"),
        ({"mean_trade_qty": D("-1")}, "mean_trade_qty"),
    ],
)
def test_other_settings_are_checked(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(MarketConfigError) as caught:
        SyntheticConfig(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field.endswith(field)


def test_a_row_may_leave_out_impossible_moves() -> None:
    rows = default_transitions()
    rows[UP] = {UP: 0.5, SIDE: 0.5}
    assert SyntheticConfig(transitions=rows).transitions[UP][DOWN] == 0.0


def test_the_config_keeps_its_own_copy() -> None:
    rows = default_transitions()
    config = SyntheticConfig(transitions=rows)
    rows[UP][UP] = 0.0
    assert config.transitions[UP][UP] == 0.985


def test_the_price_stays_positive_in_a_crash() -> None:
    crash = {r: RegimeParams(-5.0, 0.5) for r in Regime}
    config = SyntheticConfig(start_price=D(1), regimes=crash, step_seconds=3600)
    steps = take(SyntheticMarket(GRID, config, seed=1), 200)
    assert steps[-1].last_price == D("0.1")  # one tick, the floor
    assert all(t.price >= D("0.1") for s in steps for t in s.trades)


def test_it_is_a_market_generator() -> None:
    market: MarketGenerator = SyntheticMarket(GRID)
    assert market.pair == "XBT/USD"
