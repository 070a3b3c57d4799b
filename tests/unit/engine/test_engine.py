"""The engine loop over bars with the SimBroker: decisions, fills, accounting, exits, guards."""

from __future__ import annotations

from decimal import Decimal as D

from aether.backtest.round_trips import round_trips
from aether.domain.accounts import TradingState
from aether.domain.events import (
    MarketDataFresh,
    MarketDataStale,
    OrderCancelled,
    OrderFilled,
    Tick,
)
from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import OrderStatus, OrderType, Side
from aether.engine.config import SizingConfig, SizingMethod, TradingConfig
from aether.engine.loop import Engine
from aether.engine.portfolio import Portfolio
from aether.risk.exits import Distance, ExitConfig
from aether.risk.limits import RiskLimits
from aether.risk.sizing import Costs
from aether.venues.sim.broker import SimBroker
from tests.unit.domain.conftest import make_instrument
from tests.unit.engine.scripted import HOUR, Scripted, bar, engine_for, fixed

XBT = make_instrument()
NS = 1_000_000_000


def long_(ctx, b):  # type: ignore[no-untyped-def]
    return ctx.target_long("XBTUSD")


def flat(ctx, b):  # type: ignore[no-untyped-def]
    return ctx.target_flat("XBTUSD")


def test_decided_on_close_filled_at_next_open_with_exact_fees_and_cash() -> None:
    strategy = Scripted({0: long_, 1: flat})
    engine, venue = engine_for(XBT, strategy, fixed("0.5"))
    engine.run(
        [bar(0, "100", "101", "99", "100"), bar(1, "101", "106", "100", "105"),
         bar(2, "104", "104", "103", "103")],
        market=venue,
    )  # fmt: skip
    buy, sell = engine.ledger.fills
    # Half the cash at the close (100) with the 0.4 % taker fee: floor(500 / 100.4) to the lot.
    assert (buy.side, buy.quantity, buy.price, buy.fee) == (
        Side.BUY, D("4.98007968"), D("101"), D("2.01195219")
    )  # fmt: skip
    assert (sell.side, sell.quantity, sell.price, sell.fee) == (
        Side.SELL, D("4.98007968"), D("104"), D("2.07171315")
    )  # fmt: skip
    assert buy.ts_ns == 1 * HOUR * NS
    assert sell.ts_ns == 2 * HOUR * NS
    assert engine.portfolio.cash == D("1010.85657370")
    assert engine.portfolio.reserved("USD") == 0
    assert engine.portfolio.reserved("XBT") == 0
    assert engine.portfolio.fees_paid_usd == D("4.08366534")
    assert venue.balances["USD"] == engine.portfolio.cash  # the venue's book agrees
    assert strategy.started
    assert strategy.bars == [0, 1, 2]
    assert strategy.fills == [buy, sell]
    assert all(o.status is OrderStatus.FILLED for o in engine.ledger.orders.values())
    (trip,) = round_trips(
        engine.ledger.fills, {o: "signal" for o in engine.ledger.orders}, {"XBTUSD": XBT}
    )
    assert trip.pnl == D("10.85657370")
    assert trip.exit_reason == "signal"
    assert engine.recorder.bars_in_position == 1  # held at the close of bar 1 only
    assert engine.recorder.ts == [HOUR, 2 * HOUR, 3 * HOUR]
    assert engine.recorder.values[-1] == float(D("1010.85657370"))


def test_target_long_is_idempotent_while_entering_or_holding() -> None:
    strategy = Scripted({0: long_, 1: long_, 2: long_})
    engine, venue = engine_for(XBT, strategy, fixed("0.5"))
    engine.run([bar(h, "100", "101", "99", "100") for h in range(4)], market=venue)
    assert len(engine.ledger.fills) == 1
    assert strategy.results[1] is None
    assert strategy.results[2] is None


def test_stop_loss_exit_fires_on_the_bar_low_and_sells_at_the_next_open() -> None:
    exits = ExitConfig(Distance(percent=D("0.05")), Distance(percent=D("0.10")))
    config = TradingConfig(SizingConfig(SizingMethod.FIXED), exits, Costs(D("0.004")))
    engine, venue = engine_for(XBT, Scripted({0: long_}), config)
    engine.run(
        [bar(0, "100", "100", "100", "100"), bar(1, "100", "101", "99", "100"),
         bar(2, "99", "99", "94.9", "96"), bar(3, "95.5", "97", "95", "96")],
        market=venue,
    )  # fmt: skip
    buy, sell = engine.ledger.fills
    assert buy.price == D("100")
    assert engine.exits.levels == {}
    assert sell.price == D("95.5")
    assert sell.quantity == buy.quantity
    reasons = {cl: o.request.tags.reason for cl, o in engine.ledger.orders.items()}
    assert reasons[sell.cl_ord_id] == "stop_loss"


def test_take_profit_exit_and_levels_from_the_entry_fill() -> None:
    exits = ExitConfig(Distance(percent=D("0.05")), Distance(percent=D("0.10")))
    config = TradingConfig(SizingConfig(SizingMethod.FIXED), exits, Costs(D("0.004")))
    engine, venue = engine_for(XBT, Scripted({0: long_}), config)
    engine.run(
        [bar(0, "100", "100", "100", "100"), bar(1, "200", "201", "199", "200")], market=venue
    )
    levels = engine.exits.levels["XBTUSD"]
    assert (levels.stop_loss, levels.take_profit) == (D("190.0"), D("220.0"))
    engine.run(
        [bar(2, "200", "221", "200", "215"), bar(3, "214", "214", "210", "212")], market=venue
    )
    assert [f.side for f in engine.ledger.fills] == [Side.BUY, Side.SELL]
    reasons = {cl: o.request.tags.reason for cl, o in engine.ledger.orders.items()}
    assert reasons[engine.ledger.fills[1].cl_ord_id] == "take_profit"


def test_volatility_sizing_risks_the_configured_share_of_equity_to_the_stop() -> None:
    exits = ExitConfig(Distance(percent=D("0.05")), Distance(percent=D("0.10")))
    sizing = SizingConfig(SizingMethod.VOLATILITY, risk_fraction=D("0.01"))
    config = TradingConfig(sizing, exits, Costs(D("0.004")))
    engine, venue = engine_for(XBT, Scripted({0: long_}), config)
    engine.run(
        [bar(0, "100", "100", "100", "100"), bar(1, "100", "100", "100", "100")], market=venue
    )
    # 1 % of 1000 over (100 * 1.004 - 95 * 0.996) per unit, floored to the lot.
    assert engine.ledger.fills[0].quantity == D("1.73010380")


def test_max_order_notional_caps_the_sized_entry() -> None:
    engine, venue = engine_for(XBT, Scripted({0: long_}), fixed("1", max_order_notional=D("200")))
    engine.run(
        [bar(0, "100", "100", "100", "100"), bar(1, "100", "100", "100", "100")], market=venue
    )
    (buy,) = engine.ledger.fills
    assert buy.quantity * D("100") * D("1.004") <= D("200")
    assert buy.quantity == D("1.99203187")


def test_refusals_list_every_failed_rule_and_nothing_reaches_the_venue() -> None:
    def two_limits(ctx, b):  # type: ignore[no-untyped-def]
        first = ctx.place("XBTUSD", Side.BUY, D("1"), type=OrderType.LIMIT, price=D("50"))
        second = ctx.place("XBTUSD", Side.BUY, D("30"), type=OrderType.LIMIT, price=D("50"))
        return first, second

    engine, venue = engine_for(XBT, Scripted({0: two_limits}), fixed("1", max_open_orders=1))
    engine.run([bar(0, "100", "100", "100", "100")], market=venue)
    first, second = engine.strategy.results[0]  # type: ignore[attr-defined]
    assert first is not None
    assert second is None
    (refusal,) = engine.ledger.refusals
    assert {f.rule for f in refusal.failures} >= {"max_open_orders", "balance"}
    assert [o.cl_ord_id for o in venue.open_orders()] == [first]
    assert engine.portfolio.reserved("USD") == D("50") * D("1.004")


def test_cancel_releases_the_reservation_and_reports_the_update() -> None:
    def rest(ctx, b):  # type: ignore[no-untyped-def]
        return ctx.place("XBTUSD", Side.BUY, D("1"), type=OrderType.LIMIT, price=D("50"))

    def cancel(ctx, b):  # type: ignore[no-untyped-def]
        ctx.cancel(strategy.results[0])

    strategy = Scripted({0: rest, 1: cancel})
    engine, venue = engine_for(XBT, strategy, fixed())
    engine.run([bar(0, "100", "100", "100", "100"), bar(1, "100", "100", "90", "95")], market=venue)
    cl = strategy.results[0]
    assert engine.ledger.orders[cl].status is OrderStatus.CANCELLED
    assert engine.portfolio.reserved("USD") == 0
    assert not engine.ledger.open_orders
    assert strategy.updates == [(cl, "accepted"), (cl, "cancelled")]


def test_daily_drawdown_halts_entries_until_the_next_utc_day() -> None:
    day = 24
    strategy = Scripted({0: long_, 2: flat, 3: long_, day + 1: long_})
    engine, venue = engine_for(XBT, strategy, fixed("1", max_daily_drawdown=D("0.05")))
    bars = [
        bar(0, "100", "100", "100", "100"),
        bar(1, "100", "100", "89", "90"),  # -10 % on the day: halted at this close
        bar(2, "90", "90", "90", "90"),
        bar(3, "90", "90", "90", "90"),
        bar(day, "90", "90", "90", "90"),
        bar(day + 1, "90", "90", "90", "90"),
        bar(day + 2, "91", "91", "91", "91"),
    ]
    engine.run(bars[:4], market=venue)
    assert engine.trading_state is TradingState.HALTED
    assert len(engine.ledger.fills) == 1  # the halted account neither sells (flat) nor buys again
    assert {f.rule for r in engine.ledger.refusals for f in r.failures} == {"trading_state"}
    engine.run(bars[4:], market=venue)
    assert engine.trading_state is TradingState.ACTIVE
    assert [f.side for f in engine.ledger.fills] == [Side.BUY]  # still long: no new entry needed


def test_reducing_state_allows_only_risk_reducing_orders() -> None:
    strategy = Scripted({0: long_, 1: flat, 2: long_})
    engine, venue = engine_for(XBT, strategy, fixed("0.5"))
    engine.run([bar(0, "100", "100", "100", "100")], market=venue)
    engine.set_trading_state(TradingState.REDUCING)
    engine.run([bar(h, "100", "100", "100", "100") for h in (1, 2, 3)], market=venue)
    assert [f.side for f in engine.ledger.fills] == [Side.BUY, Side.SELL]
    (refusal,) = engine.ledger.refusals
    assert refusal.side is Side.BUY
    assert refusal.failures[0].rule == "trading_state"


def test_a_stale_pair_takes_no_new_entries_but_may_exit() -> None:
    strategy = Scripted({0: long_, 2: flat, 3: long_, 4: long_})
    engine, venue = engine_for(XBT, strategy, fixed("0.5"))
    flat_bar = [bar(h, "100", "100", "100", "100") for h in range(6)]
    engine.run(flat_bar[:2], market=venue)
    assert [f.side for f in engine.ledger.fills] == [Side.BUY]
    stale = MarketDataStale("XBTUSD", 2 * HOUR * NS, 2 * HOUR * NS)
    engine.run([stale, flat_bar[2], flat_bar[3]], market=venue)
    assert engine.stale == {"XBTUSD"}
    # The flat (a reducing sell) went through while stale; the new entry did not.
    assert [f.side for f in engine.ledger.fills] == [Side.BUY, Side.SELL]
    (refusal,) = engine.ledger.refusals
    assert refusal.side is Side.BUY
    assert [f.rule for f in refusal.failures] == ["stale_market_data"]
    engine.run([MarketDataFresh("XBTUSD", 4 * HOUR * NS), flat_bar[4], flat_bar[5]], venue)
    assert engine.stale == set()
    assert [f.side for f in engine.ledger.fills] == [Side.BUY, Side.SELL, Side.BUY]


def test_ticks_drive_the_same_loop() -> None:
    def buy_on_tick(ctx, tick):  # type: ignore[no-untyped-def]
        return None

    strategy = Scripted()
    engine, venue = engine_for(XBT, strategy, fixed("0.5"))
    engine.start(0)
    ticks = [Tick("XBTUSD", D(p), D("5"), i * NS) for i, p in enumerate(("100", "101", "102"))]
    engine.on_tick(ticks[0])
    cl = engine.target_long("XBTUSD")
    engine.run(ticks[1:], market=venue)
    (fill,) = engine.ledger.fills
    assert fill.cl_ord_id == cl
    assert fill.price == D("101")
    assert fill.ts_ns == NS
    assert strategy.ticks == [D("100"), D("101"), D("102")]
    assert engine.last_price("XBTUSD") == D("102")


def test_a_replayed_fill_is_booked_once() -> None:
    strategy = Scripted({0: long_})
    engine, venue = engine_for(XBT, strategy, fixed("0.5"))
    engine.run(
        [bar(0, "100", "100", "100", "100"), bar(1, "100", "100", "100", "100")], market=venue
    )
    cash = engine.portfolio.cash

    engine._on_venue_event(OrderFilled(engine.ledger.fills[0]))
    assert engine.portfolio.cash == cash
    assert len(engine.ledger.fills) == 1


def test_a_fill_of_an_order_the_engine_did_not_send_moves_its_holdings() -> None:
    """An order placed through the API on the account the engine trades: its fill counts."""

    engine, venue = engine_for(XBT, Scripted({}), fixed("0.5"))
    engine.run([bar(0, "100", "100", "100", "100")], market=venue)
    outside = Fill("api-1", "an-api-order", XBT.symbol, Side.BUY, D("2"), D("100"), D("0.5"),
                   "USD", Liquidity.TAKER, 0)  # fmt: skip
    engine._on_venue_event(OrderFilled(outside))
    engine._on_venue_event(OrderFilled(outside))  # a replay books nothing more
    engine._on_venue_event(OrderCancelled("an-api-order", "whatever", 0))
    assert engine.position(XBT.symbol) == D("2")
    assert engine.portfolio.cash == D("1000") - D("200.5")
    assert "an-api-order" not in engine.ledger.orders


def test_config_refuses_volatility_sizing_without_exits() -> None:
    import pytest

    with pytest.raises(ValueError, match="volatility sizing needs exits"):
        TradingConfig(SizingConfig(SizingMethod.VOLATILITY), None, Costs(D("0.004")))
    with pytest.raises(ValueError, match="fraction"):
        SizingConfig(SizingMethod.FIXED, D("1.5"))
    assert RiskLimits().max_open_orders is None


def test_without_history_finished_orders_are_forgotten_and_a_late_fill_still_counts() -> None:
    """An account runner's engine keeps only open orders; the database keeps the rest."""

    instruments = {XBT.symbol: XBT}
    venue = SimBroker(instruments, {"USD": D("1000")})
    engine = Engine(
        instruments=instruments,
        portfolio=Portfolio(instruments, D("1000")),
        venue=venue,
        strategy=Scripted({0: long_}),
        config=fixed("0.5"),
        keep_history=False,
    )
    engine.run(
        [bar(0, "100", "100", "100", "100"), bar(1, "100", "100", "100", "100")], market=venue
    )
    assert engine.position(XBT.symbol) > 0  # bought and filled
    assert engine.ledger.orders == {}
    assert engine.ledger.fills == []
    held = engine.position(XBT.symbol)

    # A late fill of the forgotten order is still booked, once.
    fill = Fill("late-1", "ae-1", XBT.symbol, Side.BUY, D("1"), D("100"), D("0"), "USD",
                Liquidity.TAKER, 0)  # fmt: skip
    engine._on_venue_event(OrderFilled(fill))
    engine._on_venue_event(OrderFilled(fill))
    assert engine.position(XBT.symbol) == held + 1
