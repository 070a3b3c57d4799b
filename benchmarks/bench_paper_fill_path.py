"""Paper fill path latency: NATS market event -> SimBroker fill -> persisted fill -> order
event on NATS, paced at a fixed rate; a table.

    .venv/bin/python benchmarks/bench_paper_fill_path.py [--events 1000] [--rate 1000]
        [--fill-every 1]

One paper account rests a large XBTUSD limit buy in its paper venue; the market events are
wire-encoded trades (``md.kraken.XBTUSD.trade``), one in ``--fill-every`` printed through the
order (a fill of a part of it, maker) and the others above it (no fill): 1 is the worst case,
every event a fill. A consumer, as the account runner would, decodes each event into a queue
and a loop takes whatever waits and runs ``aether.oms.paper_fills.on_market_events``: the
SimBroker's fills, recorded with their order updates and events in one PostgreSQL
transaction, then the ``fill`` events published on ``orders.<account>.fill``. A listener
takes the time each ``fill`` event arrives; the latency is from just before the market event
that made it was published. Publisher, consumer and listener share one event loop (the
pacing costs the consumer a little, as other work in a runner would; a publisher in a process
of its own was slower on two shared cores). The first 50 fills warm up and are not counted.

Servers: a throw-away local PostgreSQL (fsync off, as in the tests) and NATS. Target: p99
under 10 ms at 1,000 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import nats
import orjson
from nats.aio.msg import Msg
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from throwaway_database import migrated_database

from aether.accounts.config import AccountConfig, PaperConfig, RiskLimits
from aether.bus.publisher import BusPublisher
from aether.bus.subjects import market_subject, order_subject
from aether.domain.events import BookLevel, BookSnapshot, Tick
from aether.domain.orders import OrderType, Side
from aether.marketdata.wire import decode, encode_trade
from aether.oms.new_order import NewOrder
from aether.oms.paper_fills import on_market_events
from aether.oms.paper_venue import PaperOrderVenue, PaperVenues
from aether.oms.service import OrderService
from aether.storage.database import create_engine, session_factory
from aether.storage.order_tables import FillRow
from aether.storage.tables import AccountRow
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

TARGET_P99_MS = 10.0
WARM_UP = 50  # fills
ALONE = 300  # fills recorded one by one without the bus, after the paced run
LOT = Decimal("0.001")
LIMIT = Decimal("50000")


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def _servers(root: Path) -> Iterator[tuple[str, str]]:
    """A PostgreSQL admin URL and the NATS URL."""
    from aether.ops.localstack import LocalStack

    stack = LocalStack(root / "stack", durable=False)
    try:
        stack.start(["postgres", "nats"])
        yield stack.postgres().admin_url, stack.urls().nats_url
    finally:
        stack.stop()


async def _fill_path(
    db_url: str, nats_url: str, events: int, rate: float, fill_every: int
) -> tuple[list[float], list[float], int]:
    """Latencies (ms) of the measured fills, of the fills recorded alone, and the fills in the
    table at the end."""
    engine = create_engine(db_url, pool_size=4)
    sessions = session_factory(engine)
    total = WARM_UP + events // fill_every  # fills: the first WARM_UP are not measured
    cash = LIMIT * LOT * (total + ALONE) * 4
    risk = RiskLimits(max_order_notional_usd=cash, max_position_notional_usd=cash)
    config = AccountConfig(risk=risk, paper=PaperConfig(starting_cash_usd=cash))
    account = AccountRow(
        id=uuid.uuid4(), name="bench", kind="other", mode="paper", config=config.to_json()
    )
    async with sessions() as session:
        session.add(account)
        await session.commit()
    instruments = {"XBTUSD": load_instrument_snapshot()["XBTUSD"]}
    venue = PaperOrderVenue(account.id, instruments, {"USD": cash})
    venues = PaperVenues()
    venues.add(venue)
    connected = asyncio.Event()

    async def on_connect(client: object) -> None:
        connected.set()

    bus = BusPublisher(
        nats_url, name="bench-paper-orders", retry_seconds=0.1, on_connect=on_connect
    )
    bus_task = asyncio.create_task(bus.run())
    feed = await nats.connect(nats_url, name="bench-md")
    runner = await nats.connect(nats_url, name="bench-runner")
    listener = await nats.connect(nats_url, name="bench-listener")
    sent: dict[int, int] = {}
    latencies: dict[int, float] = {}
    done = asyncio.Event()
    try:
        async with asyncio.timeout(10):
            await connected.wait()
        service = OrderService(sessions, venues, bus)
        book = BookSnapshot(
            "XBTUSD",
            (BookLevel(LIMIT - 10, Decimal(1)),),
            (BookLevel(LIMIT + 10, Decimal(1)),),
            time.time_ns(),
        )
        venue.on_market(book)  # the quote the order's risk check reads
        quantity = LOT * (total + ALONE)
        order = NewOrder("XBTUSD", Side.BUY, OrderType.LIMIT, quantity, price=LIMIT)
        row = await service.submit(account, order)
        if row.status != "accepted":
            raise SystemExit(f"the resting order ended {row.status}: {row.reason}")

        waiting: asyncio.Queue[Tick] = asyncio.Queue()

        async def on_market(msg: Msg) -> None:
            message = decode(msg.data)
            assert isinstance(message.event, Tick)
            waiting.put_nowait(message.event)

        async def consume() -> None:  # the account runner's loop: what waits goes together
            while True:
                batch = [await waiting.get()]
                while not waiting.empty():
                    batch.append(waiting.get_nowait())
                await on_market_events(sessions, venue, batch, bus)

        consumer = asyncio.create_task(consume())

        async def on_fill(msg: Msg) -> None:
            arrived = time.perf_counter_ns()
            k = int(orjson.loads(msg.data)["trade_id"].rsplit("-", 1)[1])
            latencies[k] = (arrived - sent[k]) / 1e6
            if len(latencies) == total:
                done.set()

        await runner.subscribe(market_subject("XBTUSD", "trade"), cb=on_market)
        await listener.subscribe(order_subject(str(account.id), "fill"), cb=on_fill)
        await runner.flush()
        await listener.flush()
        interval = 1e9 / rate
        start = time.perf_counter_ns()
        for k in range(1, total * fill_every + 1):
            due = start + int(k * interval)
            wait = (due - time.perf_counter_ns()) / 1e9
            if wait > 0:
                await asyncio.sleep(wait)
            fills = k % fill_every == 0
            price = LIMIT - 10 if fills else LIMIT + 10  # above a buy limit: no fill
            tick = Tick("XBTUSD", price, LOT, time.time_ns(), k, "sell")
            payload = encode_trade("XBTUSD", tick, time.time_ns())
            if fills:
                sent[k // fill_every] = time.perf_counter_ns()
            await feed.publish(market_subject("XBTUSD", "trade"), payload)
        async with asyncio.timeout(60):
            await done.wait()
        consumer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await consumer
        alone = []
        for k in range(ALONE):  # the database's share: one fill recorded, nothing else running
            tick = Tick("XBTUSD", LIMIT - 10, LOT, time.time_ns(), total + k + 1, "sell")
            started = time.perf_counter_ns()
            await on_market_events(sessions, venue, [tick], None)
            alone.append((time.perf_counter_ns() - started) / 1e6)
        async with sessions() as session:
            stored = await session.scalar(
                select(func.count()).select_from(FillRow).where(FillRow.account_id == account.id)
            )
    finally:
        for client in (feed, runner, listener):
            await client.close()
        bus_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bus_task
        await bus.close()
        await engine.dispose()
    measured = [latencies[k] for k in range(WARM_UP + 1, total + 1)]
    return measured, alone, int(stored or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1000.0, help="market events per second")
    parser.add_argument(
        "--fill-every", type=int, default=1, help="1: every event fills; n: one event in n"
    )
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    root = Path(tempfile.mkdtemp(prefix="aether-bench-"))
    root.chmod(0o711)  # the unprivileged PostgreSQL user must traverse it when we run as root
    try:
        with _servers(root) as (admin_url, nats_url):
            db_url = asyncio.run(migrated_database(admin_url))
            with console.status(f"{args.events:,} market events at {args.rate:,.0f}/s"):
                samples, alone, stored = asyncio.run(
                    _fill_path(db_url, nats_url, args.events, args.rate, args.fill_every)
                )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    table = Table(title="paper fill path on loopback (PostgreSQL + NATS, one paper account)")
    columns = ("measure", "events", "fills", "rate", "p50", "p99", "max", "mean", "target p99")
    for column in columns:
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row(
        "NATS event -> fill -> persisted -> order event on NATS",
        f"{args.events:,} (1 in {args.fill_every} fills)",
        f"{len(samples):,} ({stored:,} stored)",
        f"{args.rate:,.0f}/s",
        f"{_pct(samples, 0.5):.2f} ms",
        f"{_pct(samples, 0.99):.2f} ms",
        f"{max(samples):.2f} ms",
        f"{statistics.fmean(samples):.2f} ms",
        f"< {TARGET_P99_MS:.0f} ms",
    )
    table.add_row(
        "the same, one fill alone: matched, recorded, committed (no bus)",
        "-",
        f"{len(alone):,}",
        "one by one",
        f"{_pct(alone, 0.5):.2f} ms",
        f"{_pct(alone, 0.99):.2f} ms",
        f"{max(alone):.2f} ms",
        f"{statistics.fmean(alone):.2f} ms",
        "",
    )
    console.print(table)


if __name__ == "__main__":
    main()
