from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aether.domain.accounts import TradingState
from aether.domain.instruments import FeeSchedule, Instrument, InstrumentKind
from aether.domain.orders import OrderRequest, OrderTags, OrderType, Side, TimeInForce
from aether.risk.limits import RiskLimits
from aether.risk.pre_trade import AccountView, Rule, Verdict, check_order, valuation_price

FEES = FeeSchedule.flat(D("0.0016"), D("0.0026"))
XBT = Instrument("XBTUSD", "XBT", "USD", D("0.1"), D("0.00000001"), D("0.0001"), D("0.5"), FEES)
FEE = D("0.0026")
NOW = 1_710_720_000_000_000_000
SECOND = 1_000_000_000
MAJORS = frozenset({"XBTUSD", "ETHUSD"})
NO_LIMITS = RiskLimits()

ACCOUNT = AccountView(
    trading_state=TradingState.ACTIVE,
    available={"USD": D(100_000), "XBT": D(1)},
    positions={"XBTUSD": D(1), "ETHUSD": D(10), "SOLUSD": D(500)},
    marks={"XBTUSD": D(50_000), "ETHUSD": D(3_000), "SOLUSD": D(150)},
    open_orders=0,
    recent_order_times_ns=(),
    now_ns=NOW,
)


def order(
    side: Side,
    quantity: str,
    price: str | None = "50000",
    *,
    type: OrderType = OrderType.LIMIT,
    trigger: str | None = None,
    symbol: str = "XBTUSD",
    reduce_only: bool = False,
) -> OrderRequest:
    """A request built directly, so that it may break the rules Order.create enforces."""
    return OrderRequest(
        "t1",
        symbol,
        side,
        type,
        D(quantity),
        None if price is None else D(price),
        None if trigger is None else D(trigger),
        None,
        TimeInForce.GTC,
        None,
        False,
        reduce_only,
        OrderTags(),
    )


def check(
    request: OrderRequest,
    *,
    price: str = "50000",
    limits: RiskLimits = NO_LIMITS,
    instrument: Instrument = XBT,
    **account: object,
) -> Verdict:
    return check_order(
        request,
        instrument,
        price=D(price),
        account=replace(ACCOUNT, **account),  # type: ignore[arg-type]
        limits=limits,
        fee_rate=FEE,
    )


def rules(verdict: Verdict) -> tuple[str, ...]:
    return verdict.rules()


BUY = order(Side.BUY, "0.01")  # 500 USD of XBT: passes every rule of the base account
SELL = order(Side.SELL, "0.5")  # half the position: reduces risk


def test_a_plain_order_is_approved() -> None:
    for request in (BUY, SELL):
        verdict = check(request)
        assert verdict.approved
        assert verdict.failures == ()
        assert verdict.reason() == "approved"


# --- trading state ----------------------------------------------------------------------
def test_halted_refuses_everything_even_a_reducing_sell() -> None:
    for request in (BUY, SELL):
        verdict = check(request, trading_state=TradingState.HALTED)
        assert rules(verdict) == (Rule.TRADING_STATE,)
        assert not verdict.approved
        assert "halted" in verdict.reason()


def test_a_stale_pair_refuses_entries_but_not_reducing_sells() -> None:
    stale = frozenset({"XBTUSD"})
    verdict = check(BUY, stale_symbols=stale)
    assert rules(verdict) == (Rule.STALE_MARKET_DATA,)
    assert "XBTUSD is stale" in verdict.reason()
    assert check(SELL, stale_symbols=stale).approved
    assert check(BUY, stale_symbols=frozenset({"ETHUSD"})).approved


def test_reducing_allows_only_sells_up_to_the_position() -> None:
    state = TradingState.REDUCING
    assert rules(check(BUY, trading_state=state)) == ("trading_state",)
    assert check(SELL, trading_state=state).approved
    assert check(order(Side.SELL, "1"), trading_state=state).approved  # the whole position
    # Beyond the position it is a short, not a reduction: refused three ways.
    assert rules(check(order(Side.SELL, "1.5"), trading_state=state)) == (
        "trading_state",
        "balance",
        "no_shorting",
    )


# --- instrument rules -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("request_", "price", "rule", "numbers"),
    [
        (order(Side.BUY, "0"), "50000", "positive_quantity", "0"),
        (order(Side.BUY, "0.123456789"), "50000", "lot_size", "0.123456789"),
        (order(Side.BUY, "0.00005"), "50000", "min_quantity", "0.0001"),  # cost 2.5 is fine
        (order(Side.BUY, "0.0001", "1000"), "1000", "min_cost", "0.1"),  # 0.0001 x 1000
        (order(Side.BUY, "0.01", "50000.05"), "50000.05", "tick_size", "50000.05"),
        (order(Side.BUY, "0.01", "-1"), "50000", "positive_price", "-1"),
        (order(Side.BUY, "0.01", "NaN"), "50000", "price", "NaN"),
        (order(Side.BUY, "0.01", None, type=OrderType.MARKET), "0", "price", "0"),
        (order(Side.BUY, "0.01", symbol="ETHUSD"), "50000", "symbol", "ETHUSD"),
    ],
)
def test_each_instrument_rule_fails_alone(
    request_: OrderRequest, price: str, rule: str, numbers: str
) -> None:
    verdict = check(request_, price=price)
    assert rules(verdict) == (rule,)
    assert numbers in verdict.failures[0].message


def test_outside_the_spot_usd_universe_is_a_failure_not_an_exception() -> None:
    margin = replace(XBT, kind=InstrumentKind.MARGIN)
    verdict = check(BUY, instrument=margin)
    assert rules(verdict) == ("spot_usd",)
    assert "only spot is traded" in verdict.failures[0].message


# --- funds ------------------------------------------------------------------------------
def test_a_buy_needs_its_cost_and_fee_in_usd() -> None:
    request = order(Side.BUY, "0.02")  # 1,000 USD; with the 0.26 % fee 1,002.6 USD
    assert check(request, available={"USD": D("1002.6")}).approved
    verdict = check(request, available={"USD": D("1002.59")})
    assert rules(verdict) == ("balance",)
    assert "needs 1002.6" in verdict.reason()
    assert "1002.59 is available" in verdict.reason()
    assert rules(check(request, available={})) == ("balance",)  # no USD at all


def test_a_sell_needs_the_base_asset_available() -> None:
    # Position 1 XBT, but 0.5 of it is reserved by another open sell.
    verdict = check(order(Side.SELL, "0.8"), available={"USD": D(0), "XBT": D("0.5")})
    assert rules(verdict) == ("balance",)


def test_a_sell_beyond_the_position_is_a_short() -> None:
    verdict = check(order(Side.SELL, "1.5"), available={"XBT": D(2)})
    assert rules(verdict) == ("no_shorting",)
    assert rules(check(SELL, positions={}, available={"XBT": D(1)})) == ("no_shorting",)


def test_reduce_only_must_reduce() -> None:
    assert rules(check(order(Side.BUY, "0.01", reduce_only=True))) == ("reduce_only",)
    assert check(order(Side.SELL, "0.5", reduce_only=True)).approved


def test_a_buy_is_valued_at_its_trigger_or_limit_when_higher_than_the_reference() -> None:
    stop_buy = order(Side.BUY, "0.02", None, type=OrderType.STOP_LOSS, trigger="60000")
    assert valuation_price(stop_buy, D(50_000)) == D(60_000)
    assert valuation_price(order(Side.SELL, "1", "60000"), D(50_000)) == D(50_000)
    # 0.02 x 60,000 x 1.0026 = 1,203.12 USD, though the reference says 1,002.6.
    assert check(stop_buy, available={"USD": D("1203.12")}).approved
    assert rules(check(stop_buy, available={"USD": D("1203.11")})) == ("balance",)


# --- limits -----------------------------------------------------------------------------
def test_max_order_notional() -> None:
    limits = RiskLimits(max_order_notional=D(1_000))
    assert check(order(Side.BUY, "0.02"), limits=limits).approved  # exactly 1,000
    verdict = check(order(Side.BUY, "0.021"), limits=limits)  # 1,050
    assert rules(verdict) == ("max_order_notional",)
    assert "1050" in verdict.reason()
    # Only a reducing sell is exempt; one beyond the position (1 XBT held) adds risk.
    oversell = check(order(Side.SELL, "1.5"), limits=limits, available={"XBT": D(2)})
    assert rules(oversell) == ("no_shorting", "max_order_notional")


def test_max_position_counts_the_held_position() -> None:
    limits = RiskLimits(max_position_notional=D(60_000))  # 1 XBT held at 50,000
    assert check(order(Side.BUY, "0.2"), limits=limits).approved  # 1.2 x 50,000 = 60,000
    verdict = check(order(Side.BUY, "0.21"), limits=limits)  # 60,500
    assert rules(verdict) == ("max_position",)
    assert "60500" in verdict.reason()


def test_max_group_exposure_sums_the_group_at_its_marks() -> None:
    # XBT 1 held + the order at 50,000; ETH 10 x 3,000 = 30,000; SOL is in no group.
    limits = RiskLimits(max_group_exposure=D(100_000), correlated_groups=(MAJORS,))
    assert check(order(Side.BUY, "0.4"), limits=limits).approved  # 70,000 + 30,000
    verdict = check(order(Side.BUY, "0.41"), limits=limits)  # 70,500 + 30,000
    assert rules(verdict) == ("max_group_exposure",)
    assert "{ETHUSD, XBTUSD} after the order would be 100500" in verdict.reason()
    # Without groups the same order is not limited at all.
    assert check(order(Side.BUY, "0.41"), limits=replace(limits, correlated_groups=())).approved
    # A group member held without a mark cannot be valued: refuse rather than guess zero.
    unknown = check(BUY, limits=limits, marks={"XBTUSD": D(50_000)})
    assert rules(unknown) == ("max_group_exposure",)
    assert "no mark for ETHUSD" in unknown.reason()


def test_max_open_orders() -> None:
    limits = RiskLimits(max_open_orders=3)
    assert check(BUY, limits=limits, open_orders=2).approved
    assert rules(check(BUY, limits=limits, open_orders=3)) == ("max_open_orders",)


def test_max_order_rate_counts_the_last_60_seconds_and_this_order() -> None:
    limits = RiskLimits(max_orders_per_minute=3)
    # At or before the cutoff (now - 60 s) an order no longer counts.
    times = (NOW - 61 * SECOND, NOW - 60 * SECOND, NOW - 59 * SECOND, NOW - SECOND)
    assert check(BUY, limits=limits, recent_order_times_ns=times).approved  # 2 + 1
    verdict = check(BUY, limits=limits, recent_order_times_ns=(*times, NOW))
    assert rules(verdict) == ("max_order_rate",)
    assert "3 orders in the last 60 s" in verdict.reason()


def test_reducing_sells_pass_every_exposure_limit() -> None:
    tight = RiskLimits(
        max_order_notional=D(10),
        max_position_notional=D(10),
        max_group_exposure=D(10),
        correlated_groups=(MAJORS,),
    )
    assert check(order(Side.SELL, "1"), limits=tight).approved  # 50,000 notional, all of it
    assert rules(check(BUY, limits=tight)) == (
        "max_order_notional",
        "max_position",
        "max_group_exposure",
    )


def test_several_failures_are_reported_at_once() -> None:
    limits = RiskLimits(max_order_notional=D(1_000), max_open_orders=1, max_orders_per_minute=1)
    verdict = check(
        order(Side.BUY, "0.123456789", "50000.05"),
        price="50000.05",
        limits=limits,
        trading_state=TradingState.HALTED,
        available={"USD": D(10)},
        open_orders=1,
        recent_order_times_ns=(NOW - SECOND,),
    )
    assert rules(verdict) == (
        "trading_state",
        "lot_size",
        "tick_size",
        "balance",
        "max_order_notional",
        "max_open_orders",
        "max_order_rate",
    )
    assert verdict.reason().count("; ") == 6


def test_caller_errors_raise() -> None:
    with pytest.raises(ValueError, match="fee_rate"):
        check_order(BUY, XBT, price=D(1), account=ACCOUNT, limits=NO_LIMITS, fee_rate=D(1))
    with pytest.raises(ValueError, match="open_orders must not be negative"):
        replace(ACCOUNT, open_orders=-1)


# --- RiskLimits -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_order_notional", D(0)),
        ("max_position_notional", D(-1)),
        ("max_group_exposure", D("Infinity")),
        ("max_order_notional", 1000.0),
        ("max_open_orders", 0),
        ("max_orders_per_minute", True),
        ("max_open_orders", D(3)),
        ("max_daily_drawdown", D(0)),
        ("max_daily_drawdown", D("1.5")),
    ],
)
def test_limits_refuse_non_positive_values_by_name(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        RiskLimits(**{field: value})  # type: ignore[arg-type]


def test_limits_validate_and_normalise_groups() -> None:
    limits = RiskLimits(correlated_groups=[["XBTUSD", "ETHUSD"]])  # type: ignore[arg-type]
    assert limits.correlated_groups == (MAJORS,)
    with pytest.raises(ValueError, match="ETHUSD"):
        RiskLimits(correlated_groups=(MAJORS, frozenset({"ETHUSD", "SOLUSD"})))


def test_limits_describe_themselves_for_a_report() -> None:
    assert RiskLimits().describe() == "none"
    limits = RiskLimits(
        max_order_notional=D("250.00"), max_group_exposure=D(9000), max_open_orders=3,
        max_orders_per_minute=10, max_daily_drawdown=D("0.05"),
    )  # fmt: skip
    assert limits.describe() == (
        "max order 250.00 USD, max group exposure 9000 USD, max open orders 3, "
        "max orders per minute 10, max daily drawdown 0.05"
    )


# --- property: the verdict is exactly the set of broken limits ------------------------
LOT, TICK = XBT.lot_size, XBT.tick_size
# Mostly plausible values, so that many orders pass; each limit is often set right at (or
# just below) what the order reaches, so that the boundaries are tried on every run.
rarely = st.sampled_from([False] * 9 + [True])


def near(draw: st.DrawFn, reached: D, step: D = D("0.01")) -> D | None:
    """No limit, a random one, or one exactly at or just below ``reached``."""
    pick = draw(st.sampled_from(["none", "none", "random", "exact", "below"]))
    if pick == "none":
        return None
    limit = D(draw(st.integers(1, 400_000))) if pick == "random" else reached
    limit -= step if pick == "below" else 0
    return limit if limit > 0 else None


@st.composite
def cases(draw: st.DrawFn) -> tuple[OrderRequest, D, AccountView, RiskLimits, D]:
    price = draw(st.integers(1, 100_000) if draw(rarely) else st.integers(100_000, 1_000_000))
    price *= TICK
    if draw(rarely):
        price += D("0.01")  # off the tick grid
    held = draw(st.integers(0, 300_000_000) if draw(rarely) else st.integers(10**6, 3 * 10**8))
    held *= LOT
    side = draw(st.sampled_from(Side))
    size = draw(st.sampled_from(["small", "part", "all", "beyond", "any"]))
    if size == "small":  # around the minimum quantity
        qty = draw(st.integers(0, 20_000)) * LOT
    elif side is Side.SELL and size in ("part", "all"):
        qty = held if size == "all" else draw(st.integers(0, int(held / LOT))) * LOT
    elif side is Side.SELL and size == "beyond":
        qty = held + draw(st.integers(1, 10**8)) * LOT
    else:
        qty = draw(st.integers(10_000, 300_000_000)) * LOT
    qty += D("0.000000001") if draw(rarely) else D(0)  # off the lot grid
    limit_order = draw(st.booleans())
    request = order(
        side,
        str(qty),
        str(price) if limit_order else None,
        type=OrderType.LIMIT if limit_order else OrderType.MARKET,
        reduce_only=draw(rarely),
    )
    fee = draw(st.sampled_from([D(0), FEE, D("0.004")]))
    need = qty * price * (1 + fee)
    cash = near(draw, need) or D(draw(st.integers(0, 400_000)))
    reserved = draw(st.integers(0, int(held / LOT))) * LOT if draw(rarely) else D(0)
    eth, eth_mark = D(draw(st.integers(0, 20))), D(draw(st.integers(1, 5_000)))
    times = draw(
        st.lists(
            st.integers(NOW - 120 * SECOND, NOW + SECOND)
            | st.sampled_from([NOW - 60 * SECOND, NOW - 60 * SECOND + 1]),  # the cutoff
            max_size=8,
        )
    )
    recent = sum(1 for t in times if t > NOW - 60 * SECOND)
    open_orders = draw(st.integers(0, 8))
    account = AccountView(
        trading_state=draw(st.sampled_from([*TradingState, *[TradingState.ACTIVE] * 3])),
        available={"USD": cash, "XBT": held - reserved},
        positions={"XBTUSD": held, "ETHUSD": eth},
        marks={"XBTUSD": price, "ETHUSD": eth_mark},
        open_orders=open_orders,
        recent_order_times_ns=times,
        now_ns=NOW,
    )
    after = (held + qty) * price
    max_open, max_rate = near(draw, D(open_orders + 1), D(1)), near(draw, D(recent + 1), D(1))
    limits = RiskLimits(
        max_order_notional=near(draw, qty * price),
        max_position_notional=near(draw, after),
        max_group_exposure=near(draw, after + eth * eth_mark),
        correlated_groups=draw(st.sampled_from([(), (MAJORS,)])),
        max_open_orders=None if max_open is None else int(max_open),
        max_orders_per_minute=None if max_rate is None else int(max_rate),
    )
    return request, price, account, limits, fee


@settings(max_examples=400, deadline=None)
@given(cases())
def test_approved_orders_break_no_configured_limit(
    case: tuple[OrderRequest, D, AccountView, RiskLimits, D],
) -> None:
    request, price, account, limits, fee = case
    verdict = check_order(request, XBT, price=price, account=account, limits=limits, fee_rate=fee)

    # Everything computed independently of check_order.
    qty, buy = request.quantity, request.side is Side.BUY
    held = account.positions["XBTUSD"]
    reducing = not buy and D(0) < qty <= held
    notional = qty * price
    need = notional * (1 + fee)
    after = (held + qty) * price if buy else (held - qty) * price
    group = after + account.positions["ETHUSD"] * account.marks["ETHUSD"]
    recent = sum(1 for t in account.recent_order_times_ns if t > account.now_ns - 60 * SECOND)
    state = account.trading_state
    broken = {
        "trading_state": state is TradingState.HALTED
        or (state is TradingState.REDUCING and not reducing),
        "positive_quantity": qty <= 0,
        "lot_size": qty > 0 and qty % LOT != 0,
        "min_quantity": qty > 0 and qty < XBT.min_quantity,
        "tick_size": request.price is not None and request.price % TICK != 0,
        "min_cost": qty > 0 and notional < XBT.min_cost,
        "balance": qty > 0
        and (need > account.available["USD"] if buy else qty > account.available["XBT"]),
        "no_shorting": not buy and qty > held,
        "reduce_only": request.reduce_only and not reducing,
        "max_order_notional": qty > 0
        and not reducing
        and limits.max_order_notional is not None
        and notional > limits.max_order_notional,
        "max_position": qty > 0
        and buy
        and limits.max_position_notional is not None
        and after > limits.max_position_notional,
        "max_group_exposure": qty > 0
        and buy
        and bool(limits.correlated_groups)
        and limits.max_group_exposure is not None
        and group > limits.max_group_exposure,
        "max_open_orders": limits.max_open_orders is not None
        and account.open_orders + 1 > limits.max_open_orders,
        "max_order_rate": limits.max_orders_per_minute is not None
        and recent + 1 > limits.max_orders_per_minute,
    }
    assert set(verdict.rules()) == {rule for rule, hit in broken.items() if hit}
    assert len(set(verdict.rules())) == len(verdict.rules())
    if verdict.approved:
        assert state is not TradingState.HALTED
        assert (
            (need <= account.available["USD"])
            if buy
            else (qty <= min(held, account.available["XBT"]))
        )
        if buy:
            assert limits.max_order_notional is None or notional <= limits.max_order_notional
            assert limits.max_position_notional is None or after <= limits.max_position_notional
            assert (
                not limits.correlated_groups
                or limits.max_group_exposure is None
                or (group <= limits.max_group_exposure)
            )
        assert limits.max_open_orders is None or account.open_orders < limits.max_open_orders
