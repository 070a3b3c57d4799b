"""Order path latency: 1,000 orders through the order service on loopback; a table.

    .venv/bin/python benchmarks/bench_order_path.py [--orders 1000] [--checks 20000]

Rows:

* **order path**: ``OrderService.submit`` end to end, as the API calls it: instrument and
  duplicate checks, the account's state from PostgreSQL (open orders, recent orders,
  position), the venue's quote and balances, pre-trade risk, the order + event + outbox
  transaction, ``AddOrder`` on the emulator and its acknowledgement recorded in a second
  transaction. Resting XBTUSD limit buys at half the market, one after another.
* **pre-trade risk alone**: ``risk.pre_trade.check_order`` on a realistic account view.

Servers: a throw-away local PostgreSQL (fsync off, as in the tests) and the Kraken emulator
in this process (replay market, 3600x). Kraken's rate limits are off on both sides (the
emulator's and the client's waits): they bound what one key may send on the real exchange,
and are not the platform's latency. Targets: order path p99 under 20 ms, pre-trade p99
under 100 us.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from throwaway_database import migrated_database

from aether.accounts.config import AccountConfig, RiskLimits
from aether.domain.accounts import TradingState
from aether.domain.orders import Order, OrderType, Side
from aether.emulator.app import create_app
from aether.emulator.runtime import build_runtime
from aether.oms.kraken_venue import KrakenOrderVenue
from aether.oms.new_order import NewOrder
from aether.oms.service import OrderService
from aether.oms.venue_port import OrderVenue
from aether.platform.sidecars import Sidecar, SidecarThread
from aether.risk.limits import RiskLimits as EngineLimits
from aether.risk.pre_trade import AccountView, check_order
from aether.storage.database import create_engine, session_factory
from aether.storage.tables import AccountRow
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rest import Credentials, KrakenRest

TARGET_ORDER_P99_MS = 20.0
TARGET_CHECK_P99_US = 100.0


class OneVenue:
    def __init__(self, venue: OrderVenue) -> None:
        self.venue = venue

    async def venue_for(self, account: AccountRow) -> OrderVenue:
        return self.venue


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _no_wait(seconds: float) -> None:
    return None


@contextmanager
def _servers(root: Path) -> Iterator[tuple[str, str]]:
    """A PostgreSQL admin URL and the emulator's URL."""
    from aether.ops.localstack import LocalStack

    stack = LocalStack(root / "stack", durable=False)
    runtime = build_runtime(
        load_instrument_snapshot(), market="replay", seed=7, speed=3600.0, rate_limits=False
    )
    emulator = SidecarThread(Sidecar("emulator", create_app(runtime), "127.0.0.1", free_port()))
    try:
        stack.start(["postgres"])
        emulator.start()
        yield stack.postgres().admin_url, emulator.sidecar.base_url
    finally:
        emulator.stop()
        stack.stop()


async def _order_path(db_url: str, emulator_url: str, count: int, root: Path) -> list[float]:
    async with httpx.AsyncClient(base_url=emulator_url) as http:
        funded = {"balances": {"USD": "100000000"}}
        creds = (await http.post("/emulator/accounts", json=funded)).json()
        ticker = (await http.get("/0/public/Ticker", params={"pair": "XBTUSD"})).json()["result"]
    last = Decimal(next(iter(ticker.values()))["c"][0])
    price = (last / 2).quantize(Decimal("0.1"), rounding=ROUND_DOWN)
    engine = create_engine(db_url, pool_size=4)
    sessions = session_factory(engine)
    risk = RiskLimits(max_open_orders=1000, max_orders_per_minute=6000)
    account = AccountRow(
        id=uuid.uuid4(),
        name="bench",
        kind="other",
        mode="live",
        config=AccountConfig(risk=risk).to_json(),
    )
    async with sessions() as session:
        session.add(account)
        await session.commit()
    rest = KrakenRest(
        emulator_url,
        credentials=Credentials(creds["api_key"], creds["api_secret"]),
        nonces=NonceStore(root / "nonce"),
        sleep=_no_wait,
    )
    venue = KrakenOrderVenue(rest)
    service = OrderService(sessions, OneVenue(venue))
    samples: list[float] = []
    try:
        warm = [await service.submit(account, _resting(price)) for _ in range(20)]
        for row in warm:  # connections and caches are warm; the limit of open orders is not used
            await service.cancel(account, row.cl_ord_id)
        for n in range(count):
            started = time.perf_counter()
            row = await service.submit(account, _resting(price))
            samples.append((time.perf_counter() - started) * 1000)
            if row.status != "accepted":
                raise SystemExit(f"order {n} ended {row.status}: {row.reason}")
    finally:
        await venue.aclose()
        await engine.dispose()
    return samples


def _resting(price: Decimal) -> NewOrder:
    return NewOrder("XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), price=price)


def _pre_trade(count: int) -> list[float]:
    instrument = load_instrument_snapshot()["XBTUSD"]
    order = Order.create(
        instrument,
        cl_ord_id="bench-1",
        side=Side.BUY,
        type=OrderType.LIMIT,
        quantity="0.01",
        price="60000.0",
    )
    view = AccountView(
        trading_state=TradingState.ACTIVE,
        available={"USD": Decimal("100000"), "XBT": Decimal("1")},
        positions={"XBTUSD": Decimal("0.5")},
        marks={"XBTUSD": Decimal("60010.0")},
        open_orders=5,
        recent_order_times_ns=[time.time_ns() - k * 1_000_000_000 for k in range(20)],
        now_ns=time.time_ns(),
    )
    limits = EngineLimits(
        max_order_notional=Decimal(1000),
        max_position_notional=Decimal(50000),
        max_open_orders=20,
        max_orders_per_minute=30,
    )
    samples = []
    for _ in range(count):
        started = time.perf_counter_ns()
        verdict = check_order(
            order.request,
            instrument,
            price=Decimal("60000.0"),
            account=view,
            limits=limits,
            fee_rate=Decimal("0.0026"),
        )
        samples.append((time.perf_counter_ns() - started) / 1000)
    assert verdict.approved, verdict.reason()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--checks", type=int, default=20000)
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    root = Path(tempfile.mkdtemp(prefix="aether-bench-"))
    root.chmod(0o711)  # the unprivileged PostgreSQL user must traverse it when we run as root
    try:
        with _servers(root) as (admin_url, emulator_url):
            db_url = asyncio.run(migrated_database(admin_url))
            with console.status(f"submitting {args.orders:,} orders"):
                orders = asyncio.run(_order_path(db_url, emulator_url, args.orders, root))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    checks = _pre_trade(args.checks)
    table = Table(title="order path on loopback (PostgreSQL + in-process Kraken emulator)")
    for column in ("measure", "samples", "p50", "p99", "max", "mean", "target p99"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row(
        "order path: submit -> persisted -> acknowledged",
        f"{len(orders):,}",
        f"{_pct(orders, 0.5):.2f} ms",
        f"{_pct(orders, 0.99):.2f} ms",
        f"{max(orders):.2f} ms",
        f"{statistics.fmean(orders):.2f} ms",
        f"< {TARGET_ORDER_P99_MS:.0f} ms",
    )
    table.add_row(
        "pre-trade risk check alone",
        f"{len(checks):,}",
        f"{_pct(checks, 0.5):.1f} us",
        f"{_pct(checks, 0.99):.1f} us",
        f"{max(checks):.1f} us",
        f"{statistics.fmean(checks):.1f} us",
        f"< {TARGET_CHECK_P99_US:.0f} us",
    )
    console.print(table)


if __name__ == "__main__":
    main()
