"""The emulator's server-side rate limits, with time stepped by hand.

Figures are worked out from Kraken's pages: REST Starter 15 max, -0.33/s; Intermediate 20,
-0.5/s; Pro 20, -1/s; trading Starter 60, -1/s; Intermediate 125, -2.34/s; Pro 180, -3.75/s.
"""

from __future__ import annotations

import pytest

from aether.emulator.exchange.errors import ExchangeError
from aether.emulator.rate_limits import (
    ORDER_RATE_LIMIT_EXCEEDED,
    RATE_LIMIT_EXCEEDED,
    REST_LIMITS,
    TRADING_LIMITS,
    Cost,
    Leaky,
    RateLimits,
    Tier,
    Transaction,
    batch_add_cost,
    batch_cancel_cost,
    rest_cost,
    transaction_cost,
)


def burst(limits: RateLimits, key: str, calls: int, now: float, method: str = "Balance") -> int:
    """How many of ``calls`` at ``now`` were accepted (every one is tried)."""
    errors: list[str] = []
    for _ in range(calls):
        try:
            limits.charge_rest(key, method, now)
        except ExchangeError as exc:
            errors.append(exc.kraken_error)
    assert set(errors) <= {RATE_LIMIT_EXCEEDED}
    return calls - len(errors)


def test_tier_tables_are_kraken_s() -> None:
    assert REST_LIMITS[Tier.STARTER].maximum == 15
    assert REST_LIMITS[Tier.STARTER].decay_per_s == pytest.approx(0.33)
    assert (REST_LIMITS[Tier.INTERMEDIATE].maximum, REST_LIMITS[Tier.INTERMEDIATE].decay_per_s) == (
        20,
        0.5,
    )
    assert (REST_LIMITS[Tier.PRO].maximum, REST_LIMITS[Tier.PRO].decay_per_s) == (20, 1.0)
    assert (TRADING_LIMITS[Tier.STARTER].maximum, TRADING_LIMITS[Tier.STARTER].decay_per_s) == (
        60,
        1.0,
    )
    assert TRADING_LIMITS[Tier.INTERMEDIATE].maximum == 125
    assert TRADING_LIMITS[Tier.INTERMEDIATE].decay_per_s == pytest.approx(2.34)
    assert TRADING_LIMITS[Tier.PRO].maximum == 180
    assert TRADING_LIMITS[Tier.PRO].decay_per_s == pytest.approx(3.75)


def test_rest_costs() -> None:
    assert rest_cost("Balance") == 1
    assert rest_cost("CancelAll") == 1
    assert rest_cost("GetWebSocketsToken") == 1
    for history in ("TradesHistory", "Ledgers", "QueryLedgers", "QueryTrades"):
        assert rest_cost(history) == 2
    for trading in ("AddOrder", "CancelOrder", "AddOrderBatch", "EditOrder", "AmendOrder"):
        assert rest_cost(trading) == 0


def test_a_starter_key_gets_15_calls_then_is_refused_and_refusals_still_count() -> None:
    limits = RateLimits()
    assert burst(limits, "k", 16, now=0.0) == 15
    assert limits.rest_level("k", 0.0) == pytest.approx(16)  # the refused call counted
    # t=6: 16 - 6 * 0.33 = 14.02; +1 = 15.02 > 15: still refused (and counted).
    assert burst(limits, "k", 1, now=6.0) == 0
    assert limits.rest_level("k", 6.0) == pytest.approx(15.02)
    # t=10: 15.02 - 4 * 0.33 = 13.70; +1 = 14.70: accepted.
    assert burst(limits, "k", 1, now=10.0) == 1
    assert limits.rest_level("k", 10.0) == pytest.approx(14.70)


def test_decay_is_continuous_and_never_below_zero() -> None:
    limits = RateLimits()
    burst(limits, "k", 10, now=100.0)
    assert limits.rest_level("k", 103.0) == pytest.approx(10 - 3 * 0.33)
    assert limits.rest_level("k", 200.0) == 0.0
    assert limits.rest_level("k", 50.0) == pytest.approx(10)  # a clock stepping back drains nothing


def test_history_calls_cost_two_and_order_entry_is_not_on_this_counter() -> None:
    limits = RateLimits()
    assert burst(limits, "k", 7, now=0.0, method="TradesHistory") == 7  # 14
    assert burst(limits, "k", 50, now=0.0, method="AddOrder") == 50  # free here
    assert limits.rest_level("k", 0.0) == pytest.approx(14)
    assert burst(limits, "k", 1, now=0.0, method="TradesHistory") == 0  # 16 > 15
    assert limits.rest_level("k", 0.0) == pytest.approx(16)


def test_tiers_per_account_and_keys_are_separate() -> None:
    limits = RateLimits()
    limits.set_tier("pro", Tier.PRO)
    limits.set_tier("mid", Tier.INTERMEDIATE)
    assert burst(limits, "pro", 25, now=0.0) == 20
    assert burst(limits, "mid", 25, now=0.0) == 20
    assert burst(limits, "starter", 25, now=0.0) == 15
    # After 3 s: pro 25 - 3 = 22 (refused), mid 25 - 1.5 = 23.5; 10 s: pro 15, mid 20.
    assert burst(limits, "pro", 1, now=3.0) == 0
    assert limits.rest_level("pro", 10.0) == pytest.approx(26 - 10)
    assert limits.rest_level("mid", 10.0) == pytest.approx(25 - 5)
    assert limits.tier("nobody") is Tier.STARTER


def test_disabled_limits_count_nothing() -> None:
    limits = RateLimits(enabled=False)
    assert burst(limits, "k", 100, now=0.0) == 100
    limits.admit("k", "XBTUSD", Cost(100), now=0.0)
    assert limits.rest_level("k", 0.0) == 0.0
    assert limits.trading_level("k", "XBTUSD", 0.0) == 0.0


@pytest.mark.parametrize(
    ("kind", "age", "expected"),
    [
        (Transaction.ADD, None, Cost(1)),
        (Transaction.AMEND, 4.99, Cost(1, 3)),
        (Transaction.AMEND, 7.0, Cost(1, 2)),
        (Transaction.AMEND, 14.0, Cost(1, 1)),
        (Transaction.AMEND, 15.0, Cost(1, 0)),
        (Transaction.EDIT, 0.0, Cost(1, 6)),
        (Transaction.EDIT, 44.9, Cost(1, 2)),
        (Transaction.EDIT, 45.0, Cost(1, 1)),
        (Transaction.EDIT, 90.0, Cost(1, 0)),
        (Transaction.CANCEL, 0.0, Cost(0, 8)),
        (Transaction.CANCEL, 5.0, Cost(0, 6)),
        (Transaction.CANCEL, 10.0, Cost(0, 5)),
        (Transaction.CANCEL, 36.0, Cost(0, 4)),
        (Transaction.CANCEL, 89.0, Cost(0, 2)),
        (Transaction.CANCEL, 299.9, Cost(0, 1)),
        (Transaction.CANCEL, 300.0, Cost(0, 0)),
        (Transaction.CANCEL, None, Cost(0, 0)),
    ],
)
def test_transaction_costs_by_resting_time(
    kind: Transaction, age: float | None, expected: Cost
) -> None:
    assert transaction_cost(kind, age) == expected


def test_kraken_s_worked_example_add_amend_after_7s_cancel_36s_later() -> None:
    # Add +1; amend fixed +1 and +2 (7 s old); cancel +4 (36 s since the amend): 8 points.
    steps = [
        transaction_cost(Transaction.ADD),
        transaction_cost(Transaction.AMEND, 7.0),
        transaction_cost(Transaction.CANCEL, 36.0),
    ]
    assert sum(step.total for step in steps) == 8


def test_batches() -> None:
    assert batch_add_cost(4) == Cost(2)
    assert batch_add_cost(15).total == 7.5
    assert batch_cancel_cost([1.0, 6.0, 100.0]) == Cost(0, 8 + 6 + 1)  # < 5, < 10, < 300 s


def test_the_trading_counter_refuses_past_the_threshold_and_still_charges_the_fixed_count() -> None:
    limits = RateLimits()
    add = transaction_cost(Transaction.ADD)
    for _ in range(60):
        limits.admit("acct", "XBTUSD", add, now=0.0)
    with pytest.raises(ExchangeError) as refused:
        limits.admit("acct", "XBTUSD", add, now=0.0)
    assert refused.value.kraken_error == ORDER_RATE_LIMIT_EXCEEDED
    assert limits.trading_level("acct", "XBTUSD", 0.0) == pytest.approx(61)
    limits.admit("acct", "ETHUSD", add, now=0.0)  # per pair: another pair is untouched
    # t=2: 61 - 2 = 59; +1 = 60, exactly the threshold: accepted.
    limits.admit("acct", "XBTUSD", add, now=2.0)
    assert limits.trading_level("acct", "XBTUSD", 2.0) == pytest.approx(60)


def test_a_cancel_is_refused_on_its_decaying_count_and_a_batch_cancel_never_is() -> None:
    limits = RateLimits()
    limits.admit("acct", "XBTUSD", Cost(55), now=0.0)
    with pytest.raises(ExchangeError):
        limits.admit("acct", "XBTUSD", transaction_cost(Transaction.CANCEL, 1.0), now=0.0)
    assert limits.trading_level("acct", "XBTUSD", 0.0) == pytest.approx(55)  # fixed count 0
    limits.admit("acct", "XBTUSD", batch_cancel_cost([1.0, 1.0]), now=0.0, batch=True)
    limits.charge("acct", "XBTUSD", 16, now=0.0)
    assert limits.trading_level("acct", "XBTUSD", 0.0) == pytest.approx(71)


def test_the_transaction_context_charges_the_decaying_count_only_on_success() -> None:
    limits = RateLimits()
    limits.set_tier("acct", Tier.PRO)
    edit = transaction_cost(Transaction.EDIT, 2.0)  # 1 + 6
    with limits.transaction("acct", "XBTUSD", edit, now=0.0):
        pass
    assert limits.trading_level("acct", "XBTUSD", 0.0) == pytest.approx(7)
    with (
        pytest.raises(ExchangeError),
        limits.transaction("acct", "XBTUSD", edit, now=0.0),
    ):
        raise ExchangeError("EOrder:Unknown order")
    assert limits.trading_level("acct", "XBTUSD", 0.0) == pytest.approx(8)  # the fixed +1
    # Pro decays 3.75/s: 8 points are gone after 8 / 3.75 s.
    assert limits.trading_level("acct", "XBTUSD", 8 / 3.75) == pytest.approx(0)


def test_order_age_restarts_at_an_amend() -> None:
    limits = RateLimits()
    assert limits.order_age("acct", "O1", opened_s=100.0, now=107.0) == 7.0
    limits.note_amended("acct", "O1", 130.0)
    assert limits.order_age("acct", "O1", opened_s=100.0, now=137.0) == 7.0
    limits.forget("acct", "O1")
    assert limits.order_age("acct", "O1", opened_s=100.0, now=137.0) == 37.0


def test_leaky_counter() -> None:
    counter = Leaky()
    assert counter.add(5, now=10.0, decay_per_s=0.5) == 5
    assert counter.level(14.0, 0.5) == 3
    assert counter.add(1, now=14.0, decay_per_s=0.5) == 4
    assert counter.level(30.0, 0.5) == 0
