"""``aether backtest --account NAME``: the account's configured risk limits, read from the
database, act on the run; a missing account or a refused configuration is a clear error."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from aether.accounts import service
from aether.accounts.config import AccountConfigPatch
from tests.conftest import Seed
from tests.support.cli import aether, aether_env

# Three months of the shipped slice, all cash on every entry, no exits: the entries are
# what a maximum order notional caps.
RUN = ("--strategy", "sma_cross", "--start", "2020-01-01", "--end", "2020-04-01", "--json",
       "--sizing", "fixed", "--fraction", "1", "--exits", "none", "--fee-bps", "26")  # fmt: skip


SLACK = Decimal("1.02")


async def _backtest(db_url: str, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = aether_env(AETHER_DATABASE_URL=db_url)
    return await asyncio.to_thread(aether, "backtest", *RUN, "--out", str(out), *args, env=env)


def _entries(result: subprocess.CompletedProcess[str]) -> list[Decimal]:
    """USD spent on each round trip's entry, at its fill price (the next bar's open, which
    may be a little above the close the order was sized and checked at)."""
    assert result.returncode == 0, result.stderr
    trades = Path(json.loads(result.stdout)["trades_csv"])
    with trades.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    return [Decimal(r["quantity"]) * Decimal(r["entry_price"]) for r in rows]


async def test_a_changed_account_limit_changes_the_backtest(
    aether_seed: Seed, aether_session: AsyncSession, aether_db_url: str, tmp_path: Path
) -> None:
    unlimited = _entries(await _backtest(aether_db_url, tmp_path / "none"))
    assert min(unlimited) > Decimal(5000)  # all of the 10 000 USD, less what trades lost

    default = await _backtest(aether_db_url, tmp_path / "default", "--account", "Company")
    assert max(_entries(default)) <= Decimal(1000) * SLACK  # the default max order notional

    row = await service.get(aether_session, aether_seed.company)
    patch = AccountConfigPatch.model_validate({"risk": {"max_order_notional_usd": "250"}})
    await service.update_config(aether_session, row, patch, actor="system:test")
    await aether_session.commit()
    changed = await _backtest(aether_db_url, tmp_path / "changed", "--account", "Company")
    entries = _entries(changed)
    assert max(entries) <= Decimal(250) * SLACK
    assert min(entries) > Decimal(200)  # capped, not refused
    report = Path(json.loads(changed.stdout)["report"]).read_text()
    assert "account Company: max order 250.00 USD, max position 5000.00 USD" in report


async def test_a_missing_account_is_a_clear_error(
    aether_seed: Seed, aether_db_url: str, tmp_path: Path
) -> None:
    result = await _backtest(aether_db_url, tmp_path, "--account", "Nobody")
    assert result.returncode == 1
    assert "--account Nobody: no such account" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # nothing was run


async def test_a_stored_hedge_section_someone_set_is_refused(
    aether_seed: Seed, aether_pg: asyncpg.Connection, aether_db_url: str, tmp_path: Path
) -> None:
    await aether_pg.execute(
        "UPDATE accounts SET config = jsonb_set(config, '{hedge}', $1::jsonb) WHERE id = $2",
        '{"mode": "off", "manual_usd_fraction": null}',
        aether_seed.company,
    )
    result = await _backtest(aether_db_url, tmp_path, "--account", "Company")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())  # rich wraps long lines
    assert (
        "--account Company: stored configuration refused: hedge: not available yet: hedging "
        "arrives with the hedge controller"
    ) in message
