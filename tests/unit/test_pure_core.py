"""The pure core never reads the wall clock and never imports an adapter.

import-linter (run by CI with ``lint-imports``) forbids the imports; the clock is a call, not
an import, so this test walks the core's syntax trees for it. Both checks are proven to fail
on a deliberate violation.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import aether

CORE = ("domain", "engine", "risk", "hedge", "strategies")
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


def test_import_contract_catches_a_core_module_importing_an_adapter(tmp_path: Path) -> None:
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    named = [m for c in contracts for m in (*c["source_modules"], *c["forbidden_modules"])]
    package = tmp_path / "aether"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module in (m for m in named if m.startswith("aether.")):
        (package / module.split(".")[1]).mkdir(exist_ok=True)
        (package / module.split(".")[1] / "__init__.py").write_text("")
    (package / "domain" / "leak.py").write_text("import sqlalchemy\nfrom aether import storage\n")
    (tmp_path / "pyproject.toml").write_text((PROJECT / "pyproject.toml").read_text())
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "lint-imports"),
            "--config",
            str(tmp_path / "pyproject.toml"),
            "--no-cache",
        ],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0, result.stdout
    assert "aether.domain.leak -> sqlalchemy" in result.stdout
    assert "aether.domain.leak -> aether.storage" in result.stdout
