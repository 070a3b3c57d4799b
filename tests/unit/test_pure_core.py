"""The pure core never reads the wall clock.

What the core may import is an allowlist contract checked by ``lint-imports`` (proven in
test_import_contracts.py); the clock is a call, not an import, so this test walks the core's
syntax trees for it, and is proven to fail on a deliberate violation.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import aether

# The SimBroker is pure like the core: backtests and paper accounts fill through it.
CORE = ("domain", "engine", "risk", "hedge", "strategies", "venues/sim")
ROOT = Path(aether.__file__).parent
PROJECT = ROOT.parent.parent

# Calls that read the wall clock or an OS source of time.
CLOCK_CALLS = {
    "now",
    "utcnow",
    "today",
    "time",
    "time_ns",
    "monotonic",
    "monotonic_ns",
    "perf_counter",
    "perf_counter_ns",
    "process_time",
}


def clock_reads(source: str, filename: str) -> list[str]:
    """``file:line`` of every call that reads a clock, e.g. ``datetime.now()``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in CLOCK_CALLS:
                found.append(f"{filename}:{node.lineno} {name}()")
    return found


def test_core_never_reads_the_wall_clock() -> None:
    offenders = []
    for package in CORE:
        for path in sorted((ROOT / package).rglob("*.py")):
            offenders += clock_reads(path.read_text(), str(path.relative_to(ROOT)))
    assert offenders == []


def test_clock_check_catches_a_violation() -> None:
    sample = textwrap.dedent(
        """
        from datetime import datetime, date
        import time as t
        def stamp():
            return datetime.now(), date.today(), t.monotonic()
        """
    )
    assert len(clock_reads(sample, "sample.py")) == 3
