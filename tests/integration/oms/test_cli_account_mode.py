"""``aether accounts mode`` as an operator runs it, against a real database and the emulator:
both steps with a prompt (or ``--yes``), the same refusals as the API, and open orders
cancelled at the venue before an account goes back to paper."""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import asyncpg
import pytest

from aether.audit.keys import AuditKey, audit_session_info
from aether.domain.orders import OrderType, Side
from aether.oms.new_order import NewOrder
from aether.oms.service import OrderService
from aether.oms.venue_choice import AccountVenues, vault_credentials
from aether.security import vault
from aether.security.kek import Kek, KekRing, vault_session_info
from aether.storage.database import create_engine, session_factory
from aether.storage.tables import AccountRow
from aether.venues.kraken.rest import Credentials
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator
from tests.integration.oms.mode_switch_helpers import mode_audit, mode_of

KEK = os.urandom(32)


@dataclass
class Operator:
    """Runs ``aether accounts mode`` against this test's database and emulator."""

    db_url: str
    data_dir: Path
    kraken_url: str

    async def mode(self, *args: str, answer: str = "") -> tuple[int, str]:
        env = {
            **os.environ,
            "AETHER_DATABASE_URL": self.db_url,
            "AETHER_DATA_DIR": str(self.data_dir),
            "AETHER_KRAKEN_REST_URL": self.kraken_url,
            "AETHER_CREDENTIAL_ENCRYPTION_KEY": base64.b64encode(KEK).decode(),
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aether.cli",
            "accounts",
            "mode",
            *args,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate(answer.encode())
        assert proc.returncode is not None
        return proc.returncode, " ".join(out.decode().split())


@pytest.fixture
async def trading(
    aether_db_url: str, aether_audit_key: AuditKey, emulator: Emulator, tmp_path: Path
) -> AsyncIterator[OrderService]:
    """The order service as the platform runs it: live accounts on Kraken (the emulator) with
    their vault credentials, nonces where the CLI keeps them."""
    engine = create_engine(aether_db_url, pool_size=2)
    info = {**audit_session_info(aether_audit_key), **vault_session_info(KekRing(Kek(KEK)))}
    sessions = session_factory(engine, info=info)
    venues = AccountVenues(emulator.url, tmp_path / "data" / "nonces", sessions, vault_credentials)
    try:
        yield OrderService(sessions, venues)
    finally:
        await venues.aclose()
        await engine.dispose()


def _far_bid(emulator: Emulator) -> Decimal:
    ticker = next(iter(emulator.public("Ticker", pair="XBTUSD")["result"].values()))
    return (Decimal(ticker["c"][0]) / 2).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


async def test_the_cli_switches_both_ways_cancelling_open_orders_first(
    trading: OrderService,
    emulator: Emulator,
    aether_db_url: str,
    aether_seed: Seed,
    aether_pg: asyncpg.Connection,
    tmp_path: Path,
) -> None:
    operator = Operator(aether_db_url, tmp_path / "data", emulator.url)
    kraken = emulator.account(USD="100000", XBT="1")
    account = aether_seed.bob_account
    async with trading.sessions() as session:
        await vault.store(
            session,
            account,
            Credentials(kraken.key, kraken.secret),
            permissions=["query_funds"],
            validated_at=datetime.now(UTC),
            actor="system:test",
        )
        await session.commit()

    code, out = await operator.mode("Director A", "live", "--reason", "trial", "--yes")
    assert code == 1, out
    assert "no_credentials" in out

    code, out = await operator.mode("Director B", "live", "--reason", "board approved", "--yes")
    assert code == 0, out
    assert "from paper to live" in out
    assert "Director B is now live" in out
    assert await mode_of(aether_pg, account) == "live"

    async with trading.sessions() as session:
        row = await session.get(AccountRow, account)
    assert row is not None
    order = NewOrder(
        "XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), _far_bid(emulator), cl_ord_id="cli-1"
    )
    assert (await trading.submit(row, order)).status == "accepted"

    code, out = await operator.mode(str(account), "paper", "--reason", "pause", answer="n\n")
    assert code == 1, out
    assert "not confirmed" in out
    assert await mode_of(aether_pg, account) == "live"
    assert emulator.runtime is not None
    assert [o.cl_ord_id for o in emulator.runtime.exchange.open_orders(kraken.key)] == ["cli-1"]

    code, out = await operator.mode(str(account), "paper", "--reason", "pause", answer="y\n")
    assert code == 0, out
    assert "cancelled 1 order(s): cli-1" in out
    assert await mode_of(aether_pg, account) == "paper"
    assert emulator.runtime.exchange.open_orders(kraken.key) == []
    entries = [(e["actor"], e["action"]) for e in await mode_audit(aether_pg, account)]
    assert entries == [
        ("system:cli", "account.mode_switch_requested"),
        ("system:cli", "account.mode_switched"),
        ("system:cli", "account.mode_switch_requested"),  # the one not confirmed
        ("system:cli", "account.mode_switch_requested"),
        ("system:cli", "account.mode_switched"),
    ]
