"""``aether backtest --account NAME`` runs the account's configured strategy, parameters and
pair when ``--strategy`` is not given (explicit options win), refuses an account without a
strategy, and starts the engine in the account's trading state."""

from __future__ import annotations

import asyncio
import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aether.accounts import service
from aether.accounts.config import AccountConfigPatch
from tests.conftest import Seed
from tests.support.cli import aether, aether_env

# Three months of the shipped slice, all cash on every entry: the strategy decides the trades.
RUN = ("--start", "2020-01-01", "--end", "2020-04-01", "--json", "--sizing", "fixed",
       "--fraction", "1", "--fee-bps", "26")  # fmt: skip
FAST = {"name": "sma_cross", "params": {"fast": 5, "slow": 30}, "pairs": ["ETH/USD"]}


async def _backtest(db_url: str, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = aether_env(AETHER_DATABASE_URL=db_url)
    return await asyncio.to_thread(aether, "backtest", *RUN, "--out", str(out), *args, env=env)


def _summary(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def _same_run(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("strategy", "params", "pair", "trades", "final_equity", "fees_paid")
    return all(a[k] == b[k] for k in keys)


async def _configure(session: AsyncSession, account: Any, patch: dict[str, Any]) -> None:
    row = await service.get(session, account)
    await service.update_config(
        session, row, AccountConfigPatch.model_validate(patch), actor="system:test"
    )
    await session.commit()


async def test_the_accounts_strategy_runs_and_a_changed_parameter_changes_the_backtest(
    aether_seed: Seed, aether_session: AsyncSession, aether_db_url: str, tmp_path: Path
) -> None:
    await _configure(aether_session, aether_seed.company, {"strategy": FAST})
    configured = _summary(await _backtest(aether_db_url, tmp_path / "a", "--account", "Company"))
    assert configured["strategy"] == "sma_cross"
    assert configured["params"] == {"fast": "5", "slow": "30"}
    assert configured["pair"] == "ETHUSD"  # the strategy's first pair, normalised
    assert configured["trades"] > 0
    # The very run `--strategy sma_cross --param fast=5 --param slow=30 --pair ETHUSD` makes.
    options = ("--strategy", "sma_cross", "--param", "fast=5", "--param", "slow=30")
    explicit = _summary(
        await _backtest(
            aether_db_url, tmp_path / "b", "--account", "Company", *options, "--pair", "ETHUSD"
        )
    )
    assert _same_run(configured, explicit)

    await _configure(aether_session, aether_seed.company, {"strategy": {**FAST, "params": {}}})
    changed = _summary(await _backtest(aether_db_url, tmp_path / "c", "--account", "Company"))
    assert changed["params"] == {"fast": "20", "slow": "50"}
    assert changed["trades"] != configured["trades"]
    assert changed["final_equity"] != configured["final_equity"]

    # An explicit --param wins over the account's; --strategy replaces its strategy.
    tuned = await _backtest(aether_db_url, tmp_path / "d", "--account", "Company", *options[2:])
    assert _same_run(_summary(tuned), configured)
    replaced = _summary(
        await _backtest(
            aether_db_url, tmp_path / "e", "--account", "Company", "--strategy", "breakout"
        )
    )
    assert (replaced["strategy"], replaced["params"]) == ("breakout", {"entry": "55", "exit": "20"})
    assert replaced["pair"] == "XBTUSD"  # the account's pairs belong to its strategy


async def test_an_account_without_a_strategy_needs_strategy(
    aether_seed: Seed, aether_db_url: str, tmp_path: Path
) -> None:
    result = await _backtest(aether_db_url, tmp_path, "--account", "Company")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert "--account Company: the account has no strategy configured" in message
    assert "give --strategy" in message
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # nothing was run


async def test_the_backtest_starts_in_the_accounts_trading_state(
    aether_seed: Seed, aether_session: AsyncSession, aether_db_url: str, tmp_path: Path
) -> None:
    await _configure(aether_session, aether_seed.company, {"strategy": FAST})
    active = _summary(await _backtest(aether_db_url, tmp_path / "active", "--account", "Company"))
    assert active["trades"] > 0
    for state in ("halted", "reducing"):
        await _configure(aether_session, aether_seed.company, {"trading_state": state})
        run = await _backtest(aether_db_url, tmp_path / state, "--account", "Company")
        summary = _summary(run)
        # Flat from the start, a strategy's every order would open exposure: none is placed.
        assert summary["trades"] == 0, state
        assert Decimal(summary["fees_paid"]) == 0, state
        assert Decimal(summary["final_equity"]) == Decimal(summary["starting_cash"]), state
        report = Path(summary["report"]).read_text()
        assert f"trading state {state}" in report
