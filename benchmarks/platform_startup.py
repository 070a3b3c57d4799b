"""Startup and request-latency figures of the platform spine; prints a table.

    .venv/bin/python benchmarks/platform_startup.py [--requests 300]

Measures: embedded servers cold (initdb) and warm start, ``aether up --detach`` until
``/readyz`` is 200, and the latency of ``/readyz`` and of an authenticated API request
(Argon2id verification of the key included) over loopback HTTP.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from aether.ops.localstack import LocalStack
from aether.ops.localstack.processes import free_ports


def _aether(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aether.cli", *args], capture_output=True, text=True, check=True
    )


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000, ordered[-1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="aether-bench-"))
    root.chmod(0o711)
    rows: list[tuple[str, str]] = []
    try:
        stack = LocalStack(root / "servers", durable=True)
        rows.append(("servers: cold start (initdb, 3 servers)", f"{_timed(stack.start):.2f} s"))
        stack.stop()
        warm = []
        for _ in range(3):
            warm.append(_timed(stack.start))
            stack.stop()
        rows.append(("servers: warm start (median of 3)", f"{statistics.median(warm):.2f} s"))

        data, (port,) = root / "platform", free_ports(1)
        base = f"http://127.0.0.1:{port}"
        up = _timed(lambda: _aether("up", "--detach", "--data-dir", str(data), "--port", str(port)))
        rows.append(("aether up --detach until /readyz 200 (fresh)", f"{up:.2f} s"))
        try:
            init = _aether(
                "accounts",
                "init",
                "--json",
                "--data-dir",
                str(data),
                "--company",
                "Bench Co",
                "--director",
                "A",
                "--director",
                "B",
                "--admin",
                "bench",
            )
            headers = {"Authorization": f"Bearer {json.loads(init.stdout)['api_key']}"}
            with httpx.Client(base_url=base, timeout=10) as client:
                for label, path, hdrs in (
                    ("GET /readyz (3 dependency probes)", "/readyz", {}),
                    ("GET /api/v1/accounts (Argon2id key check)", "/api/v1/accounts", headers),
                ):
                    samples = []
                    for _ in range(args.requests):
                        started = time.perf_counter()
                        response = client.get(path, headers=hdrs)
                        samples.append(time.perf_counter() - started)
                        response.raise_for_status()
                    p50, p99, worst = _percentiles(samples)
                    rows.append(
                        (label, f"p50 {p50:.1f} ms · p99 {p99:.1f} ms · max {worst:.1f} ms")
                    )
        finally:
            _aether("down", "--data-dir", str(data))
    finally:
        LocalStack(root / "servers").stop()
        shutil.rmtree(root, ignore_errors=True)

    table = Table(title=f"Aether platform spine ({args.requests} requests per endpoint, loopback)")
    table.add_column("measurement")
    table.add_column("result", justify="right")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
