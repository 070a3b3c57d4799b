"""What an account runner trades with: the account's strategy and its trading configuration.

The strategy, its parameters and pairs, the trading state and the risk limits come from the
account's configuration. Sizing and exits have no section in it yet, so every runner uses
``aether backtest``'s defaults (volatility sizing risking 1 % of equity to a 5 % stop,
take-profit at 10 %), stated in :data:`RUNNER_SIZING` and :data:`RUNNER_EXITS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from aether.accounts.config import AccountConfig
from aether.accounts.risk_limits import engine_risk_limits
from aether.domain.instruments import Instrument
from aether.engine.config import SizingConfig, SizingMethod, TradingConfig
from aether.engine.strategy import Strategy
from aether.risk.exits import Distance, ExitConfig
from aether.risk.sizing import Costs
from aether.strategies.catalogue import build_strategy

__all__ = ["RUNNER_EXITS", "RUNNER_SIZING", "AccountTrading", "NoStrategyError", "trading_setup"]

RUNNER_SIZING = SizingConfig(SizingMethod.VOLATILITY, Decimal(1), Decimal("0.01"))
RUNNER_EXITS = ExitConfig(Distance(percent=Decimal("0.05")), Distance(percent=Decimal("0.10")))


class NoStrategyError(ValueError):
    """The account has no strategy section: it does not trade."""


@dataclass(frozen=True, slots=True)
class AccountTrading:
    strategy: Strategy
    pairs: tuple[str, ...]
    config: TradingConfig


def trading_setup(
    config: AccountConfig, instruments: Mapping[str, Instrument], order_id_prefix: str
) -> AccountTrading:
    """The strategy and trading configuration of an account; raises NoStrategyError."""
    section = config.strategy
    if section is None:
        raise NoStrategyError("the account has no strategy: it does not trade")
    strategy, _ = build_strategy(section.name, section.params)
    taker = max(instruments[pair].fees.tiers[0].taker for pair in section.pairs)
    trading = TradingConfig(
        sizing=RUNNER_SIZING,
        exits=RUNNER_EXITS,
        costs=Costs(taker),
        limits=engine_risk_limits(config),
        order_id_prefix=order_id_prefix,
    )
    return AccountTrading(strategy, tuple(section.pairs), trading)
