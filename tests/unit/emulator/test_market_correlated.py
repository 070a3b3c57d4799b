"""The correlated synthetic pairs: returns that follow XBTUSD's with the set correlation, on
the pair's own grid, deterministic for a seed; and the runtime that trades five pairs."""

from __future__ import annotations

import math
import statistics
from decimal import Decimal
from itertools import islice, pairwise

import pytest

from aether.emulator.market.correlated import CorrelatedConfig, CorrelatedMarket
from aether.emulator.market.generator import MarketConfigError, MarketStep, PairGrid
from aether.emulator.market.replay import BarReplay, shipped_bars
from aether.emulator.market.synthetic import SyntheticConfig, SyntheticMarket
from aether.emulator.runtime import DEFAULT_FOLLOWERS, build_runtime
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

XBT = PairGrid("XBTUSD", Decimal("0.1"), 8)
SOL = PairGrid("SOLUSD", Decimal("0.01"), 8)
ADA = PairGrid("ADAUSD", Decimal("0.000001"), 8)


def leader(seed: int = 7) -> SyntheticMarket:
    return SyntheticMarket(XBT, SyntheticConfig(), seed=seed)


def returns(steps: list[MarketStep]) -> list[float]:
    return [math.log(b.last_price / a.last_price) for a, b in pairwise(steps)]


def follower(rho: float, seed: int = 3, grid: PairGrid = SOL) -> CorrelatedMarket:
    start = Decimal(150) if grid is SOL else Decimal("0.4")
    return CorrelatedMarket(grid, leader(), CorrelatedConfig(start_price=start, rho=rho), seed=seed)


@pytest.mark.parametrize("rho", [0.7, 0.3, -0.5])
def test_returns_correlate_with_the_leader_at_rho(rho: float) -> None:
    lead = list(islice(leader().steps(0), 4000))
    follow = list(islice(follower(rho).steps(0), 4000))
    # The first steps tune the volatility estimate; measure after them.
    measured = statistics.correlation(returns(lead)[200:], returns(follow)[200:])
    assert measured == pytest.approx(rho, abs=0.05)


def test_a_replayed_leader_is_followed_bar_for_bar() -> None:
    bars = shipped_bars("kraken_XBTUSD_60.csv", "XBTUSD", 3600)[:1500]
    replay = BarReplay(bars, XBT, seed=7)
    lead = list(replay.steps(0))
    config = CorrelatedConfig(start_price=Decimal("0.4"), rho=0.7)
    follow = list(CorrelatedMarket(ADA, BarReplay(bars, XBT, seed=7), config, seed=1).steps(0))
    assert [s.ts_ns for s in follow] == [s.ts_ns for s in lead]
    measured = statistics.correlation(returns(lead)[100:], returns(follow)[100:])
    assert measured == pytest.approx(0.7, abs=0.07)


def test_the_stream_is_deterministic_for_a_seed_and_differs_by_seed() -> None:
    first = list(islice(follower(0.7, seed=3).steps(1_000), 50))
    again = list(islice(follower(0.7, seed=3).steps(1_000), 50))
    other = list(islice(follower(0.7, seed=4).steps(1_000), 50))
    assert first == again
    assert [s.last_price for s in first] != [s.last_price for s in other]


def test_trades_sit_on_the_grid_inside_their_step() -> None:
    steps = list(islice(follower(0.7, grid=ADA).steps(0), 300))
    for step, following in pairwise(steps):
        assert step.pair == "ADAUSD"
        assert step.trades[-1].price == step.last_price
        times = [t.ts_ns for t in step.trades]
        assert times == sorted(set(times))
        assert step.ts_ns <= times[0]
        assert times[-1] < following.ts_ns
        for trade in step.trades:
            assert trade.price % ADA.tick_size == 0
            assert trade.price > 0
            assert trade.qty % ADA.lot == 0
            assert trade.qty > 0


def test_rho_one_moves_with_the_leader_exactly() -> None:
    lead = returns(list(islice(leader().steps(0), 300)))
    follow = returns(list(islice(follower(1.0).steps(0), 300)))
    assert statistics.correlation(lead, follow) > 0.999


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("rho", {"rho": 1.5}),
        ("rho", {"rho": float("nan")}),
        ("start_price", {"start_price": Decimal(0)}),
        ("trades_per_step", {"trades_per_step": 0}),
        ("mean_trade_usd", {"mean_trade_usd": Decimal(-1)}),
        ("vol_halflife_steps", {"vol_halflife_steps": 0}),
        ("prior_vol", {"prior_vol": 0.0}),
    ],
)
def test_bad_settings_name_their_field(field: str, change: dict[str, object]) -> None:
    settings: dict[str, object] = {"start_price": Decimal(150), **change}
    with pytest.raises(MarketConfigError) as caught:
        CorrelatedConfig(**settings)  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize("market", ["replay", "synthetic"])
def test_the_runtime_trades_five_usd_pairs_with_the_snapshots_rules(market: str) -> None:
    snapshot = load_instrument_snapshot()
    runtime = build_runtime(snapshot, market=market, seed=7)
    pairs = [feed.pair for feed in runtime.feeds]
    assert pairs == ["XBTUSD", "ETHUSD", *DEFAULT_FOLLOWERS]
    assert len(pairs) >= 5
    for pair in pairs:
        listed = runtime.catalogue.find(pair)
        assert listed is not None
        assert listed.tradable
        assert listed.quote == "USD"
        assert listed.tick_size == snapshot[pair].tick_size
        assert listed.ordermin == snapshot[pair].min_quantity
        assert listed.costmin == snapshot[pair].min_cost
        assert runtime.exchange.pairs[pair] == snapshot[pair]


def test_followers_and_rho_are_options() -> None:
    runtime = build_runtime(
        load_instrument_snapshot(), followers=["DOTUSD", "LINKUSD"], rho=0.2, seed=1
    )
    assert [feed.pair for feed in runtime.feeds] == ["XBTUSD", "ETHUSD", "DOTUSD", "LINKUSD"]
    generator = runtime.feeds[2].generator
    assert isinstance(generator, CorrelatedMarket)
    assert generator.config.rho == 0.2
    assert [f.pair for f in build_runtime(load_instrument_snapshot(), followers=()).feeds] == [
        "XBTUSD",
        "ETHUSD",
    ]


@pytest.mark.parametrize(
    ("followers", "rho", "message"),
    [
        (["BNBUSD"], 0.7, "no synthetic market for 'BNBUSD'"),
        (["ETHUSD"], 0.7, "ETHUSD is a shipped pair"),
        (["SOLUSD"], 2.0, "rho"),
    ],
)
def test_bad_followers_or_rho_are_refused(followers: list[str], rho: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_runtime(load_instrument_snapshot(), followers=followers, rho=rho)


def test_a_follower_needs_its_leader() -> None:
    snapshot = load_instrument_snapshot()
    without = {pair: i for pair, i in snapshot.items() if pair != "XBTUSD"}
    with pytest.raises(ValueError, match="follows XBTUSD"):
        build_runtime(without, followers=["SOLUSD"])


def test_followers_print_and_quote_in_a_running_runtime() -> None:
    clock = [1_700_000_000 * 1_000_000_000]
    runtime = build_runtime(load_instrument_snapshot(), market="synthetic", seed=7, speed=600)
    runtime._clock = lambda: clock[0]
    runtime.start()
    for _ in range(40):
        clock[0] += 50_000_000
        runtime.tick()
    for pair in DEFAULT_FOLLOWERS:
        trades, _ = runtime.exchange.recent_trades(pair, 0, 1000)
        assert len(trades) > 3, pair
        book = runtime.exchange.depth(pair, 10)
        assert len(book.bids) == 10, pair
        assert len(book.asks) == 10, pair
        assert book.bids[0].price < book.asks[0].price
