"""End-to-end market-data latency: emulator -> ingest -> NATS -> ``WS /ws/market`` client.

    .venv/bin/python benchmarks/bench_md_latency.py [--seconds 20] [--tick 0.002]

Three processes on loopback, as in production: the Kraken emulator (its own process, a
synthetic market ticking every ``--tick`` seconds, so its book and trade traffic comes near
1,000 updates a second), the platform API with the market-data ingest (the same app
``aether up`` serves, over throw-away PostgreSQL, NATS and Valkey), and this process as
the WebSocket client subscribed to book, trade and ticker of both traded pairs.

Latency of a message is the client's receive time minus the exchange timestamp the
emulator put on it (its wall clock, the same host clock). A book update is stamped when the
emulator publishes it, so its latency is the whole path from the emulator's send through
the ingest, NATS and the API's fan-out to this client: that is the figure held to the
target. A trade is stamped when it prints, and the emulator publishes a tick's prints only
once the tick is done, so the trade row adds the emulator's own print-to-send delay (large
when the load generator itself runs hot). The ingest's part (``recv_ns`` to the client) is
reported for every kind. The first ``--warmup`` seconds are not counted.

Target: p99 under 20 ms (book, emulator send -> client) with at least 1,000 updates a
second (book, trade and ticker) flowing to the client. On two cores the emulator shares
the machine with the platform, PostgreSQL and NATS; its maker quotes ``--levels`` a side
(12: the 10 the book subscription shows, and a little more) to keep the load generator's
own cost down.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import websockets
from rich.console import Console
from rich.table import Table

from aether.audit.keys import AuditKey
from aether.ops.endpoints import ServerUrls
from aether.ops.localstack.processes import free_ports

NS = 1_000_000_000
PAIRS = ("XBTUSD", "ETHUSD")
KINDS = ["book", "trade", "ticker"]


def run_emulator(port: int, tick: float, speed: float, levels: int) -> None:
    """Child process: the emulator with a fast-ticking synthetic market."""
    import uvicorn

    from aether.emulator.app import create_app
    from aether.emulator.market.maker import BookShape
    from aether.emulator.runtime import build_runtime
    from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

    runtime = build_runtime(
        load_instrument_snapshot(),
        market="synthetic",
        seed=11,
        speed=speed,
        tick_seconds=tick,
        rate_limits=False,
        shape=BookShape(levels=levels),
    )
    uvicorn.run(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")


def run_api(port: int, emulator_port: int, urls: ServerUrls, data_dir: str) -> None:
    """Child process: the platform API with market data on, like ``aether up`` serves it."""
    import uvicorn

    from aether.api.app import create_app
    from aether.settings import Settings

    settings = Settings(
        profile="test",  # type: ignore[arg-type]
        data_dir=Path(data_dir),
        log_level="WARNING",
        kraken_rest_url=f"http://127.0.0.1:{emulator_port}",
        kraken_ws_url=f"ws://127.0.0.1:{emulator_port}/v2",
        ws_market_queue_size=100_000,
    )
    app = create_app(settings, urls)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def _wait_ready(base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base}/readyz", timeout=2)
            if response.status_code == 200:
                return
            last = response.text[:300]
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise SystemExit(f"the platform was not ready within {timeout:g}s: {last}")


async def _admin_key(database_url: str, key: AuditKey) -> str:
    from aether.cli.accounts import initialise_company

    done = await initialise_company(
        database_url, "Bench", ["A", "B"], "bench", "system:bench", key=key
    )
    return done.admin_key.token


async def measure(url: str, key: str, seconds: float, warmup: float) -> dict[str, list[int]]:
    """Latencies (ns) by kind: exchange time to here, and ingest receive to here."""
    samples: dict[str, list[int]] = {"book": [], "trade": [], "ticker": [], "ingest": []}
    async with websockets.connect(url, max_size=2**24, compression=None) as ws:
        await ws.send(json.dumps({"type": "auth", "api_key": key}))
        for pair in PAIRS:
            await ws.send(json.dumps({"type": "subscribe", "symbol": pair, "kinds": KINDS}))
        counting_from = time.time_ns() + int(warmup * NS)
        until = counting_from + int(seconds * NS)
        while True:
            raw = await ws.recv()
            now = time.time_ns()
            if now >= until:
                break
            message = json.loads(raw)
            kind = message.get("kind")
            if now < counting_from or kind not in ("book", "trade", "ticker"):
                continue
            if kind != "ticker":  # the ticker carries no exchange time: receive time only
                samples[kind].append(now - int(message["ts_ns"]))
            samples["ingest"].append(now - int(message["recv_ns"]))
    return samples


def _percentile(ordered: list[int], q: float) -> int:
    """The ``q`` quantile (0 to 1) of the sorted, non-empty ``ordered``."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _row(name: str, values: list[int], seconds: float) -> tuple[str, ...]:
    if not values:
        return (name, "0", "-", "-", "-", "-", "-")
    ordered = sorted(values)

    def pct(q: float) -> str:
        return f"{_percentile(ordered, q) / 1e6:.2f}"

    return (
        name,
        f"{len(ordered):,}",
        f"{len(ordered) / seconds:,.0f}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        f"{ordered[-1] / 1e6:.2f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not counted")
    parser.add_argument("--tick", type=float, default=0.001, help="emulator tick seconds")
    parser.add_argument("--speed", type=float, default=6000.0, help="market seconds a second")
    parser.add_argument("--levels", type=int, default=12, help="maker's levels per side")
    args = parser.parse_args()

    from aether.ops.localstack import LocalStack
    from aether.storage.migrate import upgrade

    # One audit key for the run, handed to the API child through the environment.
    os.environ.setdefault("AETHER_AUDIT_HMAC_KEY", secrets.token_urlsafe(48))
    audit_key = AuditKey.from_text(os.environ["AETHER_AUDIT_HMAC_KEY"])
    root = Path(tempfile.mkdtemp(prefix="aether-bench-latency-"))
    root.chmod(0o711)
    stack = LocalStack(root / "stack", durable=False)
    spawn = multiprocessing.get_context("spawn")
    children: list[multiprocessing.process.BaseProcess] = []
    console = Console(width=130)
    try:
        stack.start()
        urls = stack.urls()
        upgrade(stack.postgres().owner_url)
        key = asyncio.run(_admin_key(urls.database_url, audit_key))
        emulator_port, api_port = free_ports(2)
        emulator = spawn.Process(
            target=run_emulator,
            args=(emulator_port, args.tick, args.speed, args.levels),
            daemon=True,
        )
        emulator.start()
        children.append(emulator)
        api = spawn.Process(
            target=run_api,
            args=(api_port, emulator_port, urls, str(root / "data")),
            daemon=True,
        )
        api.start()
        children.append(api)
        _wait_ready(f"http://127.0.0.1:{api_port}", timeout=60)
        ws_url = f"ws://127.0.0.1:{api_port}/ws/market"
        watched = {
            "emulator": psutil.Process(emulator.pid),
            "api + ingest": psutil.Process(api.pid),
        }
        for process in watched.values():
            process.cpu_percent()
        samples = asyncio.run(measure(ws_url, key, args.seconds, args.warmup))
        cpu = {name: process.cpu_percent() for name, process in watched.items()}
    finally:
        for child in children:
            child.terminate()
            child.join(10)
        stack.stop()
        shutil.rmtree(root, ignore_errors=True)

    total = len(samples["ingest"])  # every counted message, whatever its kind
    table = Table(title=f"Emulator -> ingest -> NATS -> WS /ws/market ({os.cpu_count()} cores)")
    for column in ("latency", "messages", "per second", "p50 ms", "p90 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    table.add_row(*_row("book: exchange -> client", samples["book"], args.seconds))
    table.add_row(*_row("trade: exchange -> client", samples["trade"], args.seconds))
    table.add_row(*_row("all kinds: ingest -> client", samples["ingest"], args.seconds))
    console.print(table)
    console.print(
        "CPU over the run: " + ", ".join(f"{name} {share:.0f} %" for name, share in cpu.items())
    )
    book = sorted(samples["book"])
    rate = total / args.seconds
    if not book:
        raise SystemExit("no book update reached the client")
    p99 = _percentile(book, 0.99) / 1e6
    verdict = "meets" if p99 < 20 and rate >= 1000 else "MISSES"
    console.print(
        f"{verdict} the target: p99 {p99:.2f} ms (book, emulator send -> client) with "
        f"{rate:,.0f} updates/s delivered (book, trade and ticker; target >= 1,000)"
    )


if __name__ == "__main__":
    main()
