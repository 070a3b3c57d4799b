"""Kraken's REST call counter and per-pair trading counter, with hand-computed numbers.

REST ("Spot REST Rate Limits"): Starter 15 max, -0.33/s; Intermediate 20, -0.5/s; Pro 20,
-1/s; ledger/trade history 2, AddOrder/CancelOrder 0, anything else 1.
Trading ("Spot Trading Limits"): Starter 60, -1/s; Intermediate 125, -2.34/s; Pro 180,
-3.75/s; add +1; amend +1 then +3/+2/+1; edit +1 then +6/+5/+4/+2/+1; cancel
+8/+6/+5/+4/+2/+1 for ages < 5/10/15/45/90/300 s.
"""

from __future__ import annotations

import random

import pytest

from aether.venues.kraken.rate_limit import (
    REST_LIMITS,
    TRADING_LIMITS,
    RestCounter,
    Tier,
    TradeAction,
    TradingCounter,
    batch_add_cost,
    batch_cancel_cost,
    rest_cost,
    trading_cost,
)

ADD, AMEND, EDIT, CANCEL = TradeAction.ADD, TradeAction.AMEND, TradeAction.EDIT, TradeAction.CANCEL


def test_documented_tier_numbers() -> None:
    assert {t: (lim.maximum, lim.decay_per_s) for t, lim in REST_LIMITS.items()} == {
        Tier.STARTER: (15, 0.33),
        Tier.INTERMEDIATE: (20, 0.5),
        Tier.PRO: (20, 1.0),
    }
    assert {t: (lim.maximum, lim.decay_per_s) for t, lim in TRADING_LIMITS.items()} == {
        Tier.STARTER: (60, 1.0),
        Tier.INTERMEDIATE: (125, 2.34),
        Tier.PRO: (180, 3.75),
    }


@pytest.mark.parametrize(
    ("method", "cost"),
    [
        ("Balance", 1),
        ("OpenOrders", 1),
        ("Ledgers", 2),
        ("QueryLedgers", 2),
        ("TradesHistory", 2),
        ("AddOrder", 0),
        ("CancelOrder", 0),
    ],
)
def test_rest_costs(method: str, cost: int) -> None:
    assert rest_cost(method) == cost


def test_rest_starter_decay_sequence_by_hand() -> None:
    counter = RestCounter(Tier.STARTER)
    for _ in range(15):
        assert counter.delay_for(1, 0.0) == 0.0
        counter.record(1, 0.0)
    assert counter.level(0.0) == 15
    # Full: one more point needs 1 / 0.33 s of draining.
    assert counter.delay_for(1, 0.0) == pytest.approx(1 / 0.33)
    # After 3 s: 15 - 0.99 = 14.01; a 1-point call needs 0.01 / 0.33 s more.
    assert counter.level(3.0) == pytest.approx(14.01)
    assert counter.delay_for(1, 3.0) == pytest.approx(0.01 / 0.33)
    # A 2-point ledger query at 3 s needs 1.01 / 0.33 s.
    assert counter.delay_for(rest_cost("Ledgers"), 3.0) == pytest.approx(1.01 / 0.33)
    counter.record(1, 10.0)  # 15 - 3.3 + 1 = 12.7
    assert counter.level(10.0) == pytest.approx(12.7)
    assert counter.level(100.0) == 0.0  # never below zero


def test_rest_tiers_differ() -> None:
    delays = {}
    for tier in Tier:
        counter = RestCounter(tier)
        for _ in range(15):
            counter.record(1, 0.0)
        delays[tier] = counter.delay_for(6, 0.0)
    # 15 + 6 = 21: Starter must drain 6 at 0.33/s; Intermediate 1 at 0.5/s; Pro 1 at 1/s.
    assert delays[Tier.STARTER] == pytest.approx(6 / 0.33)
    assert delays[Tier.INTERMEDIATE] == pytest.approx(2.0)
    assert delays[Tier.PRO] == pytest.approx(1.0)


def test_order_entry_does_not_load_the_rest_counter() -> None:
    counter = RestCounter(Tier.STARTER)
    for _ in range(100):
        counter.record(rest_cost("AddOrder"), 0.0)
    assert counter.level(0.0) == 0.0


def test_a_rest_burst_is_delayed_rather_than_exceeding() -> None:
    counter = RestCounter(Tier.STARTER)
    now, waited = 0.0, 0.0
    for _ in range(60):
        delay = counter.delay_for(1, now)
        now += delay
        waited += delay
        counter.record(1, now)
        assert counter.level(now) <= 15 + 1e-9
    # 15 go at once; the other 45 points drain at 0.33/s.
    assert waited == pytest.approx(45 / 0.33)


def test_a_clock_stepping_back_drains_nothing() -> None:
    counter = RestCounter(Tier.PRO)
    counter.record(5, 10.0)
    assert counter.level(4.0) == 5
    counter.record(1, 4.0)
    assert counter.level(10.0) == 6
    assert counter.level(12.0) == pytest.approx(4)


@pytest.mark.parametrize(
    ("action", "age", "cost"),
    [
        (ADD, None, 1),
        (AMEND, 0.0, 4),
        (AMEND, 4.999, 4),
        (AMEND, 5.0, 3),
        (AMEND, 14.9, 2),
        (AMEND, 15.0, 1),
        (EDIT, 1.0, 7),
        (EDIT, 9.0, 6),
        (EDIT, 12.0, 5),
        (EDIT, 30.0, 3),
        (EDIT, 60.0, 2),
        (EDIT, 100.0, 1),
        (CANCEL, 0.0, 8),
        (CANCEL, 5.0, 6),
        (CANCEL, 10.0, 5),
        (CANCEL, 44.9, 4),
        (CANCEL, 45.0, 2),
        (CANCEL, 299.9, 1),
        (CANCEL, 300.0, 0),
        (CANCEL, 3600.0, 0),
    ],
)
def test_trading_penalties_by_action_and_age(
    action: TradeAction, age: float | None, cost: float
) -> None:
    assert trading_cost(action, age) == cost


@pytest.mark.parametrize("action", [AMEND, EDIT, CANCEL])
def test_penalties_that_depend_on_age_need_the_age(action: TradeAction) -> None:
    with pytest.raises(ValueError, match="age"):
        trading_cost(action, None)
    with pytest.raises(ValueError, match="age"):
        trading_cost(action, -1.0)


def test_batch_costs() -> None:
    assert batch_add_cost(15) == 7.5
    assert batch_cancel_cost([1.0, 7.0, 400.0]) == 8 + 6 + 0
    with pytest.raises(ValueError, match="at least one"):
        batch_add_cost(0)


def test_trading_starter_sequence_by_hand() -> None:
    counter = TradingCounter(Tier.STARTER)
    for _ in range(52):
        counter.record("XBTUSD", ADD, None, 0.0)
    # 52 + a fresh cancel's 8 = 60: exactly at the threshold is still allowed.
    assert counter.delay_for("XBTUSD", CANCEL, 1.0, 0.0) == 0.0
    counter.record("XBTUSD", CANCEL, 1.0, 0.0)
    assert counter.level("XBTUSD", 0.0) == 60
    assert counter.delay_for("XBTUSD", ADD, None, 0.0) == pytest.approx(1.0)
    # At 2 s the counter is 58: a 3-second-old cancel (+8) needs 6 s more.
    assert counter.delay_for("XBTUSD", CANCEL, 3.0, 2.0) == pytest.approx(6.0)
    # ... but a 200-second-old cancel (+1) goes now.
    assert counter.delay_for("XBTUSD", CANCEL, 200.0, 2.0) == 0.0


def test_trading_counters_are_per_pair() -> None:
    counter = TradingCounter(Tier.STARTER)
    for _ in range(60):
        counter.record("XBTUSD", ADD, None, 0.0)
    assert counter.delay_for("XBTUSD", ADD, None, 0.0) > 0
    assert counter.delay_for("ETHUSD", ADD, None, 0.0) == 0.0
    assert counter.level("ETHUSD", 0.0) == 0.0


def test_trading_tiers_differ() -> None:
    # The same 130 points of fresh cancels, then one more fresh cancel at t = 0.
    delays = {}
    for tier in Tier:
        counter = TradingCounter(tier)
        counter.record_cost("XBTUSD", 130.0, 0.0)
        delays[tier] = counter.delay_for("XBTUSD", CANCEL, 0.0, 0.0)
    assert delays[Tier.STARTER] == pytest.approx((138 - 60) / 1.0)
    assert delays[Tier.INTERMEDIATE] == pytest.approx((138 - 125) / 2.34)
    assert delays[Tier.PRO] == 0.0


def test_intermediate_decay_by_hand() -> None:
    counter = TradingCounter(Tier.INTERMEDIATE)
    counter.record_cost("ETHUSD", 100.0, 0.0)
    assert counter.level("ETHUSD", 10.0) == pytest.approx(100 - 23.4)
    counter.record("ETHUSD", EDIT, 2.0, 10.0)  # +7
    assert counter.level("ETHUSD", 10.0) == pytest.approx(83.6)
    assert counter.level("ETHUSD", 100.0) == 0.0


def test_a_burst_of_fresh_cancels_is_delayed_rather_than_exceeding() -> None:
    counter = TradingCounter(Tier.STARTER)
    now = 0.0
    for _ in range(40):
        now += counter.delay_for("XBTUSD", ADD, None, now)
        counter.record("XBTUSD", ADD, None, now)
        now += counter.delay_for("XBTUSD", CANCEL, 0.5, now)
        counter.record("XBTUSD", CANCEL, 0.5, now)
        assert counter.level("XBTUSD", now) <= 60 + 1e-9
    # 40 x 9 = 360 points; 60 fit at once, 300 drain at 1/s.
    assert now == pytest.approx(300.0)


def test_a_cost_above_the_threshold_waits_for_an_empty_counter() -> None:
    # Kraken still accepts a batch cancel whose count exceeds the maximum.
    counter = TradingCounter(Tier.STARTER)
    counter.record_cost("XBTUSD", 10.0, 0.0)
    cost = batch_cancel_cost([0.0] * 10)  # 80 > 60
    assert counter.delay_for_cost("XBTUSD", cost, 0.0) == pytest.approx(10.0)
    assert counter.delay_for_cost("XBTUSD", cost, 10.0) == 0.0


def test_negative_costs_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        RestCounter(Tier.PRO).record(-1, 0.0)
    with pytest.raises(ValueError, match="negative"):
        RestCounter(Tier.PRO).delay_for(-1, 0.0)


def test_waiting_exactly_the_delay_is_always_enough() -> None:
    # Float rounding must not leave a caller who slept ``delay_for`` a few ulps short.
    rng = random.Random(0)
    for tier in Tier:
        for _ in range(2000):
            counter = TradingCounter(tier)
            start = rng.uniform(0, 1000)
            counter.record_cost("XBTUSD", rng.uniform(0, counter.limits.maximum), start)
            cost = rng.choice([0.5, 1.0, 4.0, 7.0, 8.0])
            now = start + rng.uniform(0, 3)
            delay = counter.delay_for_cost("XBTUSD", cost, now)
            assert counter.delay_for_cost("XBTUSD", cost, now + delay) == 0.0
