"""Normalisation with checksum verification over recorded emulator book traffic.

Records real WebSocket v2 traffic from an in-process emulator (instrument snapshot, then
``book`` depth 10 of the traded pairs) on several connections at once (the emulator
publishes a book update per pair every 50 ms, so parallel connections give a larger sample
in the same time), then replays the raw messages through the very code
path the ingest uses (``KrakenMarketStream.parse``: JSON with exact decimals -> local book
-> CRC32 checksum verified -> ``BookSnapshot``) on one core. Target: >= 50,000 book
updates per second.

The emulator runs at 60 market seconds per second by default, the speed ``aether up`` uses;
its books then change a few levels per update (Kraken's usually change one to three).
``--speed 3000`` is a stress case: the market moves so far between two 50 ms updates that
the maker re-quotes the whole ladder and every update carries twenty-odd levels; the table
reports levels per second too, which is the fairer figure there.

    .venv/bin/python benchmarks/bench_md_normalise.py [--messages 30000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time

import websockets
from rich.console import Console
from rich.table import Table

from aether.domain.events import BookSnapshot
from aether.emulator.app import create_app
from aether.emulator.runtime import build_runtime
from aether.ops.localstack.processes import free_ports
from aether.platform.sidecars import Sidecar, SidecarThread
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from aether.venues.kraken.ws import KrakenMarketStream
from aether.venues.kraken.ws_receive import StreamGap

SYMBOLS = ["BTC/USD", "ETH/USD"]


def start_emulator(speed: float) -> tuple[SidecarThread, str]:
    runtime = build_runtime(load_instrument_snapshot(), market="synthetic", seed=7, speed=speed)
    (port,) = free_ports(1)
    server = SidecarThread(Sidecar("Kraken emulator", create_app(runtime), "127.0.0.1", port))
    server.start()
    return server, f"ws://127.0.0.1:{server.sidecar.port}/v2"


async def record(url: str, wanted: int, seconds: float) -> list[str]:
    """Raw messages: everything up to ``wanted`` book messages or ``seconds``."""
    raw: list[str] = []
    books = 0
    async with websockets.connect(url, max_size=2**24) as ws:
        await ws.send(json.dumps({"method": "subscribe", "params": {"channel": "instrument"}}))
        params = {"channel": "book", "symbol": SYMBOLS, "depth": 10, "snapshot": True}
        await ws.send(json.dumps({"method": "subscribe", "params": params}))
        deadline = time.monotonic() + seconds
        while books < wanted and time.monotonic() < deadline:
            try:
                async with asyncio.timeout(max(0.01, deadline - time.monotonic())):
                    message = await ws.recv()
            except TimeoutError:
                break
            text = message if isinstance(message, str) else message.decode()
            raw.append(text)
            if json.loads(text).get("channel") == "book":
                books += 1
    return raw


def book_traffic(raw: list[str]) -> tuple[int, int]:
    """(book messages, price levels they carry) in the recording."""
    messages = levels = 0
    for text in raw:
        message = json.loads(text)
        if message.get("channel") != "book":
            continue
        for item in message.get("data", []):
            messages += 1
            levels += len(item.get("bids", [])) + len(item.get("asks", []))
    return messages, levels


def normalise(recordings: list[list[str]]) -> tuple[int, int, float]:
    """(snapshots emitted, checksum failures, seconds) for one pass; each connection's
    recording goes through a fresh stream, as it did on the wire."""
    snapshots = failures = 0
    started = time.perf_counter()
    for raw in recordings:
        stream = KrakenMarketStream("ws://unused", SYMBOLS, depth=10, trades=False)
        for text in raw:
            for event in stream.parse(text, 0):
                if isinstance(event, BookSnapshot):
                    snapshots += 1
                elif isinstance(event, StreamGap):
                    failures += 1
    return snapshots, failures, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=30_000, help="book messages to record")
    parser.add_argument("--seconds", type=float, default=15.0, help="longest recording")
    parser.add_argument("--speed", type=float, default=60.0, help="emulated seconds per second")
    parser.add_argument("--connections", type=int, default=16, help="recorded in parallel")
    parser.add_argument("--passes", type=int, default=40, help="timed passes (best is reported)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile")
    args = parser.parse_args()
    console = Console(width=150)

    server, url = start_emulator(args.speed)

    async def record_all() -> list[list[str]]:
        share = max(1, args.messages // args.connections)
        jobs = [record(url, share, args.seconds) for _ in range(args.connections)]
        return list(await asyncio.gather(*jobs))

    try:
        recordings = asyncio.run(record_all())
    finally:
        server.stop()

    raw = [text for recording in recordings for text in recording]
    updates, levels = book_traffic(raw)
    runs = [normalise(recordings) for _ in range(args.passes)]
    snapshots, failures, seconds = min(runs, key=lambda r: r[2])
    table = Table(title="Book normalisation with checksum verification (one core)")
    columns = ("messages", "book updates", "levels in them", "verified books out")
    for column in (*columns, "checksum failures", "seconds", "updates/s", "levels/s"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{len(raw):,}",
        f"{updates:,}",
        f"{levels:,}",
        f"{snapshots:,}",
        str(failures),
        f"{seconds:.3f}",
        f"{updates / seconds:,.0f}",
        f"{levels / seconds:,.0f}",
    )
    console.print(table)
    verdict = "meets" if updates / seconds >= 50_000 else "MISSES"
    console.print(
        f"{verdict} the target of 50,000 book updates/s "
        f"({levels / max(updates, 1):.1f} levels per update in this recording)"
    )
    if failures:
        console.print(f"[red]{failures} checksum failures: the recording or the book is wrong")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        normalise(recordings)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
