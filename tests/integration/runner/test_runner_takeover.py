"""Two ``aether runner`` processes share the accounts: killing the one that trades a live
account moves the account to the other within 15 s, and the emulator never receives an
order twice or an order the database does not have."""

from __future__ import annotations

import asyncio
import contextlib
import time
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit.keys import AuditKey
from aether.ops.endpoints import ServerUrls
from aether.ops.tasks import stop_task
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator
from tests.integration.runner.conftest import Market, configure
from tests.integration.runner.processes import (
    emulator_orders,
    lease_holder,
    make_live,
    runner_env,
    start_runner,
)
from tests.support.polling import eventually

TAKEOVER_SECONDS = 15.0


async def _swinging_market(market: Market, around: Decimal) -> None:
    """A bar a trade, alternately above and below ``around``: sma_cross(1, 2) turns every bar."""
    minute = 0
    while True:
        price = around * (Decimal("1.002") if minute % 2 else Decimal("0.998"))
        await market.trade(minute + 0.5, str(price.quantize(Decimal("0.1"), ROUND_DOWN)))
        minute += 1
        await asyncio.sleep(0.2)


async def _held_by(db_url: str, account: object, pid: int) -> bool:
    holder = await lease_holder(db_url, account)  # type: ignore[arg-type]
    return holder is not None and f":{pid}:" in holder


@pytest.mark.timeout(240)
async def test_a_killed_runners_live_account_moves_to_the_other_without_a_duplicate(
    aether_seed: Seed,
    aether_session: AsyncSession,
    aether_urls: ServerUrls,
    aether_db_url: str,
    aether_audit_key: AuditKey,
    aether_pg: asyncpg.Connection,
    emulator: Emulator,
    market: Market,
    tmp_path: Path,
) -> None:
    account = aether_seed.bob_account
    kraken = emulator.account(USD="100000", XBT="0")
    await make_live(aether_db_url, aether_audit_key, account, kraken)
    await configure(
        aether_session,
        account,
        {
            "strategy": {
                "name": "sma_cross",
                "params": {"fast": 1, "slow": 2},
                "pairs": ["XBTUSD"],
            },
            "risk": {"max_order_notional_usd": "500", "max_orders_per_minute": 600},
        },
    )
    env = runner_env(aether_urls, emulator.url)
    first = start_runner(env, tmp_path / "data", "first")
    second = None
    swinging = None
    try:
        await eventually(lambda: _held_by(aether_db_url, account, first.pid), within=30)
        second = start_runner(env, tmp_path / "data", "second")
        last = Decimal(emulator.runtime.exchange.last_price("XBTUSD") or "30000")
        swinging = asyncio.create_task(_swinging_market(market, last))

        await eventually(lambda: sum(emulator_orders(emulator, kraken).values()) >= 2, within=60)
        first.kill()
        killed_at = time.monotonic()
        await eventually(
            lambda: _held_by(aether_db_url, account, second.pid), within=TAKEOVER_SECONDS + 5
        )
        took = time.monotonic() - killed_at
        assert took < TAKEOVER_SECONDS, f"the account moved after {took:.1f}s"
        before = sum(emulator_orders(emulator, kraken).values())
        await eventually(
            lambda: sum(emulator_orders(emulator, kraken).values()) > before, within=60
        )
    finally:
        await stop_task(swinging)
        with contextlib.suppress(Exception):
            first.stop()
        if second is not None:
            assert second.stop() == 0, second.log.read_text()[-3000:]

    at_venue = emulator_orders(emulator, kraken)
    assert all(n == 1 for n in at_venue.values()), f"an order reached the venue twice: {at_venue}"
    rows = await aether_pg.fetch(
        "SELECT cl_ord_id, venue_order_id FROM orders WHERE account_id = $1", account
    )
    in_db = {r["cl_ord_id"] for r in rows}
    assert set(at_venue) <= in_db, "the venue has an order the database does not"
    sent = {r["cl_ord_id"] for r in rows if r["venue_order_id"] is not None}
    assert sent <= set(at_venue), "the database says sent, the venue never had it"
