"""An account's risk limits, read from the platform's database for ``aether backtest
--account``.

The database is found as by every command that talks to the platform (``AETHER_DATABASE_URL``,
else the local stack's). Imported only when ``--account`` is given: it brings the database
stack.
"""

from __future__ import annotations

from aether.accounts import service
from aether.accounts.config import AccountConfig, StoredConfigError, stored_config
from aether.accounts.risk_limits import engine_risk_limits
from aether.cli.context import database_url, run, session_scope, settings_for
from aether.cli.output import fail
from aether.risk.limits import RiskLimits


async def _config_of(url: str, name: str) -> AccountConfig:
    async with session_scope(url) as session:
        row = await service.get_by_name(session, name)
        return stored_config(row.config)


def account_risk_limits(name: str) -> RiskLimits:
    """The engine's limits for account ``name``; exits naming ``--account`` when there is no
    such account or its stored configuration is refused."""
    url = database_url(settings_for())
    try:
        config = run(lambda: _config_of(url, name))
    except service.AccountNotFoundError:
        fail(f"--account {name}: no such account (`aether accounts list` shows them)")
    except StoredConfigError as exc:
        fail(f"--account {name}: {exc}")
    return engine_risk_limits(config)
