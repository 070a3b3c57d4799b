"""Trade persistence throughput: ``store.copy_trades`` (COPY + merge) into PostgreSQL; a table.

    .venv/bin/python benchmarks/bench_persistence.py [--rows 1000000] [--batch 5000,20000,50000]
        [--profile FILE.prof]

Each batch size writes ``--rows`` realistic XBTUSD trade prints into a freshly migrated
database (so every row starts from an empty table), then writes the same rows again: the
idempotent path, which must add nothing. Timed: ``copy_trades`` as the ingest calls it (record
conversion, COPY into the stage table, the merge and its commit); generating the rows is not.

The server is a throw-away local PostgreSQL (``LocalStack(..., durable=False)``: fsync off, as
in the tests) unless ``AETHER_BENCH_DATABASE_URL`` names one (its user needs CREATEDB). Target:
at least 100,000 rows/s on first write. ``--profile`` writes cProfile statistics of the
client side (read with ``python -m pstats``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import random
import resource
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import asyncpg
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from aether.marketdata import store
from aether.marketdata.records import TradeRecord
from aether.storage.migrate import upgrade

TARGET_ROWS_PER_S = 100_000
NS = 1_000_000_000


def realistic_trades(count: int, seed: int = 7) -> list[TradeRecord]:
    """XBTUSD prints as Kraken sends them: rising ids, sub-second spacing, a price random walk
    on a 0.1 tick, quantities with 8 decimals, mixed sides; all from the WebSocket."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    trades = []
    ts_ns = 1_735_689_600 * NS  # 2025-01-01T00:00:00Z
    price_ticks = 950_000  # 95,000.0 USD in 0.1 ticks
    for trade_id in range(1, count + 1):
        ts_ns += rng.randrange(1_000_000, 400_000_000)
        price_ticks += rng.randint(-5, 5)
        quantity = Decimal(rng.randrange(1, 250_000_000)).scaleb(-8)
        side = "buy" if rng.random() < 0.5 else "sell"
        trades.append(
            TradeRecord(
                "XBTUSD", trade_id, ts_ns, Decimal(price_ticks).scaleb(-1), quantity, side, "ws"
            )
        )
    return trades


def _batches(rows: Sequence[TradeRecord], size: int) -> Iterator[Sequence[TradeRecord]]:
    for at in range(0, len(rows), size):
        yield rows[at : at + size]


def _database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


async def _admin(server_url: str, statement: str) -> None:
    conn = await asyncpg.connect(_database(server_url, "postgres"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@dataclass(frozen=True)
class Run:
    label: str
    batch: int
    rows: int
    seconds: float
    added: int
    rss_mib: float


async def _write_all(
    url: str, rows: Sequence[TradeRecord], batch: int, label: str, profiler: cProfile.Profile | None
) -> Run:
    conn = await asyncpg.connect(url)
    try:
        added = 0
        if profiler is not None:
            profiler.enable()
        started = time.perf_counter()
        for chunk in _batches(rows, batch):
            added += await store.copy_trades(conn, chunk)
        seconds = time.perf_counter() - started
        if profiler is not None:
            profiler.disable()
    finally:
        await conn.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Run(label, batch, len(rows), seconds, added, rss)


async def _bench(
    server_url: str,
    template: str,
    rows: Sequence[TradeRecord],
    sizes: Sequence[int],
    prof: Path | None,
) -> list[Run]:
    profiler = cProfile.Profile() if prof is not None else None
    runs = []
    for size in sizes:
        name = f"aether_bench_{uuid.uuid4().hex[:8]}"
        await _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            url = _database(server_url, name)
            runs.append(await _write_all(url, rows, size, "first write", profiler))
            runs.append(await _write_all(url, rows, size, "same rows again", None))
        finally:
            await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if profiler is not None:
        profiler.dump_stats(prof)
    return runs


@contextmanager
def _server() -> Iterator[str]:
    """A database server URL: AETHER_BENCH_DATABASE_URL, or a throw-away local PostgreSQL."""
    external = os.environ.get("AETHER_BENCH_DATABASE_URL")
    if external:
        yield external
        return
    from aether.ops.localstack import LocalStack

    root = Path(tempfile.mkdtemp(prefix="aether-bench-"))
    root.chmod(0o711)  # the unprivileged PostgreSQL user must traverse it when we run as root
    stack = LocalStack(root / "stack", durable=False)
    try:
        stack.start(["postgres"])
        yield stack.postgres().admin_url  # creates databases; the benchmark writes as it
    finally:
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per batch size")
    parser.add_argument("--batch", default="5000,20000,50000", help="comma-separated sizes")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile output file")
    args = parser.parse_args()
    sizes = [int(part) for part in args.batch.split(",") if part.strip()]
    if args.rows <= 0 or not sizes or min(sizes) <= 0:
        raise SystemExit("--rows and every --batch size must be positive")
    console = Console(width=max(Console().width, 110))
    with console.status(f"generating {args.rows:,} trades"):
        rows = realistic_trades(args.rows)
    with _server() as server_url:
        template = f"aether_bench_tpl_{uuid.uuid4().hex[:8]}"
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{template}"'))
        try:
            upgrade(_database(server_url, template))
            with console.status("writing"):
                runs = asyncio.run(_bench(server_url, template, rows, sizes, args.profile))
        finally:
            asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    table = Table(title="trade persistence: store.copy_trades (COPY into a stage, then merge)")
    for column in ("run", "batch size", "rows", "seconds", "rows/s", "rows added", "peak RSS MiB"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for run in runs:
        table.add_row(
            run.label,
            f"{run.batch:,}",
            f"{run.rows:,}",
            f"{run.seconds:.2f}",
            f"{run.rows / run.seconds:,.0f}",
            f"{run.added:,}",
            f"{run.rss_mib:.0f}",
        )
    console.print(table)
    first = [r.rows / r.seconds for r in runs if r.label == "first write"]
    verdict = "meets" if min(first) >= TARGET_ROWS_PER_S else "BELOW"
    console.print(
        f"slowest first write: {min(first):,.0f} rows/s, {verdict} the target of "
        f"{TARGET_ROWS_PER_S:,} rows/s; peak RSS includes the {args.rows:,} generated rows"
    )


if __name__ == "__main__":
    main()
