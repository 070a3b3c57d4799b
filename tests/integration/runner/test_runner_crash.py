"""SIGKILL at random points of 200 order submissions, including between persist and send and
between send and acknowledgement: after recovery every order the emulator has is in the
database exactly once and the other way round, and every fill is counted once."""

from __future__ import annotations

import random
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit.keys import AuditKey
from aether.ops.endpoints import ServerUrls
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator, serve
from tests.integration.runner.conftest import configure
from tests.integration.runner.processes import make_live, runner_env

ORDERS = 200
#: 200 orders in seconds, half of them resting: the pace and count limits stand aside.
UNLIMITED_PACE = {"max_orders_per_minute": 6000, "max_open_orders": 1000}
KILLS = 30  # a third before a send, a third after it, a third on a timer


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """Rate limits off: this module is about crashes, not about pacing 200 orders."""
    yield from serve("replay", 3600.0, rate_limits=False)


class Driver:
    """The crash driver's parent process; each ``run`` forks a child for one kill."""

    def __init__(self, env: dict[str, str], account: uuid.UUID) -> None:
        module = "tests.integration.runner.crash_driver"
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, str(account)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, kill: str, target: int) -> int:
        """One child: recover, submit until the account has ``target`` orders, or die."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{kill} {target}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer.startswith("exit "), f"the driver stopped: {self.close()}"
        code = int(answer.split()[1])
        assert code in (0, -9), f"driver {kill} failed ({code}): {self.close()}"
        return code

    def close(self) -> str:
        """Stop the parent; what it wrote to stderr."""
        _, err = self.process.communicate(timeout=30)
        return err[-3000:]


def _kill_plan(seed: int) -> list[str]:
    chosen = random.Random(seed)
    kinds = ["before_send", "after_send", "timer"] * (KILLS // 3)
    chosen.shuffle(kinds)
    return [
        f"{kind}:{chosen.randint(100, 800)}"
        if kind == "timer"
        else f"{kind}:{chosen.randint(2, 5)}"
        for kind in kinds
    ]


@pytest.mark.timeout(600)
async def test_every_order_and_fill_is_in_both_places_once_after_two_dozen_kills(
    aether_seed: Seed,
    aether_session: AsyncSession,
    aether_urls: ServerUrls,
    aether_db_url: str,
    aether_audit_key: AuditKey,
    aether_pg: asyncpg.Connection,
    emulator: Emulator,
    tmp_path: Path,
) -> None:
    account = aether_seed.bob_account
    kraken = emulator.account(USD="10000000", XBT="0")
    await make_live(aether_db_url, aether_audit_key, account, kraken)
    await configure(aether_session, account, {"risk": UNLIMITED_PACE})
    env = {**runner_env(aether_urls, emulator.url), "AETHER_DATA_DIR": str(tmp_path / "data")}

    driver = Driver(env, account)
    killed = Counter[str]()
    try:
        plan = _kill_plan(seed=29)
        # Each run may add a share of the 200 (the last run the rest): a send kill (by the
        # fifth send) always falls inside its run, however fast the machine is.
        for run, kill in enumerate(plan, start=1):
            if driver.run(kill, ORDERS * run // (len(plan) + 1)) == -9:
                killed[kill.split(":")[0]] += 1
        assert driver.run("none", ORDERS) == 0
    finally:
        driver.close()
    assert killed["before_send"] >= 4, killed
    assert killed["after_send"] >= 4, killed
    assert sum(killed.values()) >= 20, killed

    exchange = emulator.runtime.exchange
    at_venue = Counter(
        o.cl_ord_id
        for o in [*exchange.open_orders(kraken.key), *exchange.closed_orders(kraken.key)]
    )
    rows = await aether_pg.fetch(
        "SELECT cl_ord_id, status, venue_order_id FROM orders WHERE account_id = $1", account
    )
    assert len(rows) == ORDERS
    assert all(n == 1 for n in at_venue.values()), "an order reached the venue twice"
    placed = {r["cl_ord_id"] for r in rows if r["status"] != "rejected"}
    assert set(at_venue) == placed, "the venue and the database disagree on the orders"
    assert all(r["venue_order_id"] for r in rows if r["status"] != "rejected")
    assert not [r for r in rows if r["status"] in ("new", "submitted")], "left unsettled"

    trades = exchange.trades_history(kraken.key)
    fills = await aether_pg.fetch(
        "SELECT venue_trade_id, quantity FROM fills WHERE account_id = $1", account
    )
    assert sorted(f["venue_trade_id"] for f in fills) == sorted(t.txid for t in trades)
    assert len({f["venue_trade_id"] for f in fills}) == len(fills)
