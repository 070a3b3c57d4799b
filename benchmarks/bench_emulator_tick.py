"""CPU time of the Kraken emulator's market tick (the generator's prints, the maker's ladder,
timers and candles), in process, on a pinned clock; prints a table.

    .venv/bin/python benchmarks/bench_emulator_tick.py [--ticks 400]

Each row builds a runtime over the shipped instrument snapshot (five pairs: XBTUSD and ETHUSD
and the synthetic followers SOLUSD, XRPUSD and ADAUSD; ``--followers ''`` for the first two
only) and ticks
it every 50 ms of emulator time, as ``EmulatorRuntime.run`` does. ``on time`` is the CPU per
tick when every tick comes on schedule; ``1 s late`` is the CPU of one tick that comes a second
late (what a loaded machine does), which must stay small or the emulator falls further behind
with every tick and stops answering its clients. ``share`` is the on-time CPU as a share of
one core (tick CPU over the 50 ms period). No WebSocket client is connected: publishing to
clients is measured by ``bench_emulator.py``. Run it under ``coverage run`` to see the traced
cost that tests pay.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from aether.emulator.runtime import DEFAULT_FOLLOWERS, build_runtime
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

PERIOD_NS = 50_000_000
T0 = 1_700_000_000 * 1_000_000_000
ROWS = (("replay", 60.0), ("replay", 3600.0), ("synthetic", 600.0))


def measure(
    market: str, speed: float, ticks: int, followers: Sequence[str] = DEFAULT_FOLLOWERS
) -> tuple[float, float]:
    """(CPU ms per on-time tick, CPU ms of one tick a second late)."""
    clock = [T0]
    runtime = build_runtime(
        load_instrument_snapshot(), market=market, seed=7, speed=speed, followers=followers
    )
    runtime._clock = lambda: clock[0]  # pinned: the benchmark moves time, not the wall
    runtime.start()
    started = time.process_time()
    for _ in range(ticks):
        clock[0] += PERIOD_NS
        runtime.tick()
    on_time = (time.process_time() - started) / ticks * 1000
    clock[0] += 1_000_000_000
    started = time.process_time()
    runtime.tick()
    late = (time.process_time() - started) * 1000
    return on_time, late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=400)
    parser.add_argument(
        "--followers", default=",".join(DEFAULT_FOLLOWERS), help="synthetic pairs, comma-separated"
    )
    args = parser.parse_args()
    followers = [p.strip() for p in args.followers.split(",") if p.strip()]
    pairs = 2 + len(followers)
    table = Table(title=f"emulator market tick, {pairs} pairs, {args.ticks} ticks of 50 ms")
    for name in ("market", "speed", "on time (ms CPU)", "share of a core", "1 s late (ms CPU)"):
        table.add_column(name, justify="right")
    for market, speed in ROWS:
        on_time, late = measure(market, speed, args.ticks, followers)
        share = on_time / (PERIOD_NS / 1e6)
        table.add_row(market, f"{speed:g}x", f"{on_time:.2f}", f"{share:.0%}", f"{late:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
