"""How long the ``aether`` command takes to answer; prints a table.

    .venv/bin/python benchmarks/bench_cli_startup.py [--runs 5]

Runs the installed ``aether`` script (the one beside this interpreter) for ``--help``,
``backtest --help`` and ``version``, each ``--runs`` times, and reports the best and the
median wall time of each, interpreter start included. Run it on an idle machine: the best
of several runs is the figure to compare (the target for both help screens is under 0.3 s).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

COMMANDS = (("--help",), ("backtest", "--help"), ("version",))


def aether_script() -> Path:
    script = Path(sys.executable).parent / "aether"
    if not script.is_file():
        sys.exit(f"{script} not found: install the package first (pip install -e .)")
    return script


def wall_times(command: list[str], runs: int) -> list[float]:
    """Wall time of each of ``runs`` runs of ``command``, which must succeed."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per command")
    args = parser.parse_args()
    script = aether_script()
    table = Table(title=f"aether start-up: wall time over {args.runs} runs")
    for column in ("command", "best", "median"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for command in COMMANDS:
        times = wall_times([str(script), *command], args.runs)
        table.add_row(
            f"aether {' '.join(command)}",
            f"{min(times):.3f} s",
            f"{statistics.median(times):.3f} s",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
