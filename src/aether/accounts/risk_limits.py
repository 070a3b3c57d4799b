"""The one mapping from an account's configured risk limits to the engine's.

Every account field has an engine counterpart: the order and position notionals and the
order counts are pre-trade checks, the daily drawdown limit is the engine's drawdown guard.
The engine's correlated-group limit has no account field yet, so it stays unlimited.
"""

from __future__ import annotations

from aether.accounts.config import AccountConfig
from aether.risk.limits import RiskLimits


def engine_risk_limits(config: AccountConfig) -> RiskLimits:
    """The limits the engine enforces for an account configured as ``config``."""
    risk = config.risk
    return RiskLimits(
        max_order_notional=risk.max_order_notional_usd,
        max_position_notional=risk.max_position_notional_usd,
        max_open_orders=risk.max_open_orders,
        max_orders_per_minute=risk.max_orders_per_minute,
        max_daily_drawdown=risk.daily_drawdown_limit,
    )
