"""Three accounts on five pairs under ``aether up`` for ten minutes: the runner process's CPU
and memory, and what it traded; prints a table.

    .venv/bin/python benchmarks/bench_runner_soak.py [--minutes 10] [--sample 10]

``aether up --detach`` runs the platform (API, ingest of the five pairs, the emulator) with
its own runner switched off, and ``aether runner`` runs the accounts in a process of its own
so that it can be measured alone: two paper accounts and one live account on the emulator,
each trading ``sma_cross(2, 3)`` on five-second bars of XBTUSD, ETHUSD, SOLUSD, XRPUSD and
ADAUSD. Every ``--sample`` seconds the runner's CPU (share of one core since the previous
sample) and resident memory are read; memory growth is measured from the end of the first
minute, the ceiling the platform holds itself to being no growth.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from rich.console import Console
from rich.table import Table

PAIRS = ["XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "ADAUSD"]
STRATEGY = {"name": "sma_cross", "params": {"fast": 2, "slow": 3}, "pairs": PAIRS, "bar_seconds": 5}
API = "http://127.0.0.1:8000"


def _aether(data: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "aether.cli", *args, "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"aether {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _accounts(data: Path, env: dict[str, str]) -> tuple[httpx.Client, list[str]]:
    """The README's first access, then strategies on all three and one of them live."""
    init = json.loads(
        _aether(
            data,
            env,
            "accounts",
            "init",
            "--json",
            "--company",
            "Bench Co",
            "--director",
            "Dana",
            "--director",
            "Eli",
            "--admin",
            "ops",
        )
    )
    client = httpx.Client(
        base_url=API, headers={"Authorization": f"Bearer {init['api_key']}"}, timeout=30
    )
    ids = [account["id"] for account in init["accounts"]]
    for account in ids:
        patch = {"strategy": STRATEGY, "risk": {"max_order_notional_usd": "1000"}}
        client.patch(f"/api/v1/accounts/{account}/config", json=patch).raise_for_status()
    emulator = subprocess.run(
        [
            sys.executable,
            "-m",
            "aether.cli",
            "emulator",
            "accounts",
            "create",
            "--balance",
            "USD=100000",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    creds = json.loads(emulator.stdout)
    live = ids[0]
    client.put(f"/api/v1/accounts/{live}/credentials", json=creds).raise_for_status()
    ask = {"mode": "live", "reason": "benchmark"}
    token = client.post(f"/api/v1/accounts/{live}/mode", json=ask).json()["confirmation_token"]
    confirm = {**ask, "confirmation_token": token}
    client.post(f"/api/v1/accounts/{live}/mode", json=confirm).raise_for_status()
    return client, ids


def _traded(client: httpx.Client, ids: list[str]) -> tuple[int, int]:
    orders = fills = 0
    for account in ids:
        orders += len(client.get(f"/api/v1/accounts/{account}/orders?limit=500").json())
        page = client.get(f"/api/v1/accounts/{account}/fills?limit=500").json()
        fills += len(page["fills"])
    return orders, fills


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sample", type=float, default=10.0)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="aether-soak-"))
    data.chmod(0o711)  # PostgreSQL runs as its own user when this runs as root
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETHER_")}
    env["AETHER_RUNNER_ENABLED"] = "false"
    runner: subprocess.Popen[bytes] | None = None
    samples: list[dict[str, Any]] = []
    try:
        _aether(data, env, "up", "--detach")
        client, ids = _accounts(data, env)
        with (data / "runner.out").open("wb") as out:
            runner = subprocess.Popen(
                [sys.executable, "-m", "aether.cli", "runner", "--data-dir", str(data)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = psutil.Process(runner.pid)
        process.cpu_percent(None)
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < args.minutes * 60:
            time.sleep(args.sample)
            if runner.poll() is not None:
                raise SystemExit(f"the runner stopped: {(data / 'runner.out').read_text()[-2000:]}")
            orders, fills = _traded(client, ids)
            samples.append(
                {
                    "at": time.monotonic() - started,
                    "cpu": process.cpu_percent(None),
                    "rss": process.memory_info().rss / 2**20,
                    "orders": orders,
                    "fills": fills,
                }
            )
    finally:
        if runner is not None and runner.poll() is None:
            runner.terminate()
            runner.wait(60)
        subprocess.run(
            [sys.executable, "-m", "aether.cli", "down", "--data-dir", str(data)],
            env=env,
            capture_output=True,
            check=False,
        )
        shutil.rmtree(data, ignore_errors=True)
    _report(samples, elapsed)


def _report(samples: list[dict[str, Any]], elapsed: float) -> None:
    table = Table(title=f"aether runner, 3 accounts x 5 pairs, {elapsed / 60:.1f} min")
    for column in ("t (s)", "CPU % of a core", "RSS MiB", "orders", "fills"):
        table.add_column(column, justify="right")
    for sample in samples:
        table.add_row(
            f"{sample['at']:.0f}",
            f"{sample['cpu']:.1f}",
            f"{sample['rss']:.1f}",
            str(sample["orders"]),
            str(sample["fills"]),
        )
    console = Console()
    console.print(table)
    after_first = [s for s in samples if s["at"] >= 60]
    if after_first:
        growth = after_first[-1]["rss"] - after_first[0]["rss"]
        cpu = sum(s["cpu"] for s in samples) / len(samples)
        peak = max(s["rss"] for s in samples)
        console.print(
            f"mean CPU {cpu:.1f} % of a core; RSS peak {peak:.1f} MiB; "
            f"growth after the first minute {growth:+.1f} MiB"
        )


if __name__ == "__main__":
    main()
