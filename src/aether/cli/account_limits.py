"""An account's configuration as it acts on ``aether backtest --account``: its risk limits,
trading state and strategy, read from the platform's database.

The database is found as by every command that talks to the platform (``AETHER_DATABASE_URL``,
else the local stack's). Imported only when ``--account`` is given: it brings the database
stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from aether.accounts import service
from aether.accounts.config import AccountConfig, StoredConfigError, stored_config
from aether.accounts.risk_limits import engine_risk_limits
from aether.accounts.strategy_config import StrategyConfig
from aether.cli.context import database_url, run, session_scope, settings_for
from aether.cli.output import fail
from aether.domain.accounts import TradingState
from aether.risk.limits import RiskLimits


@dataclass(frozen=True, slots=True)
class AccountForBacktest:
    """What an account's configuration makes of a backtest; ``strategy`` is None when the
    account has none (it does not trade)."""

    name: str
    limits: RiskLimits
    trading_state: TradingState
    strategy: StrategyConfig | None


async def _config_of(url: str, name: str) -> AccountConfig:
    async with session_scope(url) as session:
        row = await service.get_by_name(session, name)
        return stored_config(row.config)


def account_for_backtest(name: str) -> AccountForBacktest:
    """Account ``name``'s configuration; exits naming ``--account`` when there is no such
    account or its stored configuration is refused."""
    url = database_url(settings_for())
    try:
        config = run(lambda: _config_of(url, name))
    except service.AccountNotFoundError:
        fail(f"--account {name}: no such account (`aether accounts list` shows them)")
    except StoredConfigError as exc:
        fail(f"--account {name}: {exc}")
    return AccountForBacktest(
        name, engine_risk_limits(config), config.trading_state, config.strategy
    )
