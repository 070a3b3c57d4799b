"""An account's configured risk limits act: each one, changed, changes the engine's verdict.

Each case is an order (or, for the drawdown limit, a day's equity) that the default account
limits let through and that one changed account limit stops, with the rule that stops it.
A case per account field is required, so a field added later without a mapping fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D

import pytest

from aether.accounts.config import AccountConfig, AccountConfigPatch, RiskLimits, apply_patch
from aether.accounts.risk_limits import engine_risk_limits
from aether.domain.accounts import TradingState
from aether.domain.bars import Bar
from aether.domain.orders import OrderRequest, OrderTags, OrderType, Side, TimeInForce
from aether.engine.config import SizingConfig, SizingMethod, TradingConfig
from aether.engine.strategy import StrategyContext
from aether.risk import limits as engine_limits
from aether.risk.pre_trade import AccountView, check_order
from aether.risk.sizing import Costs
from tests.unit.domain.conftest import make_instrument
from tests.unit.engine.scripted import Scripted, bar, engine_for

XBT = make_instrument()
FEE = D("0.004")
NOW = 1_710_720_000_000_000_000
SECOND = 1_000_000_000


def _buy(quantity: str) -> OrderRequest:
    return OrderRequest(
        "t1", "XBTUSD", Side.BUY, OrderType.LIMIT, D(quantity), D(100), None, None,
        TimeInForce.GTC, None, False, False, OrderTags(),
    )  # fmt: skip


def _view(*, held: str = "0", open_orders: int = 0, recent: int = 0) -> AccountView:
    return AccountView(
        trading_state=TradingState.ACTIVE,
        available={"USD": D(100_000), "XBT": D(held)},
        positions={"XBTUSD": D(held)},
        marks={"XBTUSD": D(100)},
        open_orders=open_orders,
        recent_order_times_ns=tuple(NOW - i * SECOND for i in range(1, recent + 1)),
        now_ns=NOW,
    )


def _pre_trade(
    request: OrderRequest, view: AccountView
) -> Callable[[engine_limits.RiskLimits], str]:
    def rules(limits: engine_limits.RiskLimits) -> str:
        verdict = check_order(request, XBT, price=D(100), account=view, limits=limits, fee_rate=FEE)
        return ",".join(verdict.rules()) or "approved"

    return rules


def _drawdown_day(limits: engine_limits.RiskLimits) -> str:
    """Through the engine: half the cash goes long at 100, the close falls to 92 (equity
    about 4 % below the day's start), then the strategy places a small buy."""

    def enter(ctx: StrategyContext, _: Bar) -> object:
        return ctx.target_long("XBTUSD")

    def buy_more(ctx: StrategyContext, _: Bar) -> object:
        return ctx.place("XBTUSD", Side.BUY, D("0.1"))

    config = TradingConfig(
        sizing=SizingConfig(SizingMethod.FIXED, D("0.5")), exits=None, costs=Costs(FEE),
        limits=limits,
    )  # fmt: skip
    engine, venue = engine_for(XBT, Scripted({0: enter, 2: buy_more}), config)
    engine.run(
        [bar(0, "100", "100", "100", "100"), bar(1, "100", "100", "100", "100"),
         bar(2, "100", "100", "92", "92")],
        market=venue,
    )  # fmt: skip
    assert engine.ledger.fills, "the entry filled: the fall is the account's own"
    return ",".join(f.rule for r in engine.ledger.refusals for f in r.failures) or "approved"


# field -> (the account's changed value, what the engine is asked, the rule that stops it)
CASES: dict[str, tuple[object, Callable[[engine_limits.RiskLimits], str], str]] = {
    "max_order_notional_usd": ("500", _pre_trade(_buy("6"), _view()), "max_order_notional"),
    "max_position_notional_usd": (
        "4400",
        _pre_trade(_buy("5"), _view(held="40")),
        "max_position",
    ),
    "max_open_orders": (10, _pre_trade(_buy("1"), _view(open_orders=10)), "max_open_orders"),
    "max_orders_per_minute": (10, _pre_trade(_buy("1"), _view(recent=10)), "max_order_rate"),
    "daily_drawdown_limit": ("0.02", _drawdown_day, "trading_state"),
}


def test_every_account_risk_field_has_a_case() -> None:
    assert set(CASES) == set(RiskLimits.model_fields)


@pytest.mark.parametrize("field", sorted(CASES))
def test_a_changed_account_limit_changes_the_engines_verdict(field: str) -> None:
    value, verdict, rule = CASES[field]
    default = AccountConfig()
    changed = apply_patch(default, AccountConfigPatch.model_validate({"risk": {field: value}}))
    assert verdict(engine_risk_limits(default)) == "approved"
    assert verdict(engine_risk_limits(changed)) == rule


def test_the_default_account_limits_map_one_to_one() -> None:
    assert engine_risk_limits(AccountConfig()) == engine_limits.RiskLimits(
        max_order_notional=D("1000.00"),
        max_position_notional=D("5000.00"),
        max_open_orders=20,
        max_orders_per_minute=30,
        max_daily_drawdown=D("0.05"),
    )
