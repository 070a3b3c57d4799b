"""``aether``'s command groups are listed from the lazy table and imported only when they run.

The root help must import no command module, and ``aether backtest --help`` none of the
engine, runner or database: each is checked in a fresh interpreter through ``sys.modules``.
How fast that makes the command line is measured by benchmarks/bench_cli_startup.py.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

import aether.cli
from aether.cli.lazy_commands import LAZY_COMMANDS

#: Runs ``aether <args>`` in this interpreter, then writes the names of the loaded modules
#: to the file named by the first argument.
PROBE = """
import json, sys
from aether.cli import main
out, sys.argv = sys.argv[1], ["aether", *sys.argv[2:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open(out, "w") as file:
    json.dump({"code": code, "modules": sorted(sys.modules)}, file)
"""


def loaded_modules(tmp_path: Path, *args: str) -> tuple[set[str], str]:
    """The modules ``aether *args`` imports, and what it printed."""
    out = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    answer = json.loads(out.read_text())
    assert answer["code"] == 0, result.stderr
    return set(answer["modules"]), result.stdout


def listed_help(command: typer.core.TyperCommand | typer.core.TyperGroup) -> str:
    """What a group's help lists for ``command``: the first paragraph of its help."""
    text = command.short_help or command.help or ""
    return inspect.cleandoc(text).split("\n\n")[0].strip()


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_the_listed_help_is_the_real_commands_help(name: str) -> None:
    real = LAZY_COMMANDS[name].load(name)
    assert real.name == name
    assert LAZY_COMMANDS[name].help == listed_help(real)


def test_every_command_module_is_in_the_table() -> None:
    # A module that defines a Typer app and is missing from the table would never be reached.
    folder = Path(aether.cli.__file__).parent
    with_app = {
        f"aether.cli.{path.stem}"
        for path in folder.glob("*.py")
        if path.stem != "__init__" and "\napp = typer.Typer(" in path.read_text()
    }
    assert with_app == {lazy.module for lazy in LAZY_COMMANDS.values()}


def test_the_root_help_imports_no_command_module(tmp_path: Path) -> None:
    modules, printed = loaded_modules(tmp_path, "--help")
    for name, lazy in LAZY_COMMANDS.items():
        assert name in printed
        assert lazy.module not in modules, f"`aether --help` imported {lazy.module}"


def test_backtest_help_imports_no_engine_runner_or_database(tmp_path: Path) -> None:
    modules, printed = loaded_modules(tmp_path, "backtest", "--help")
    assert "--strategy" in printed
    assert "--take-profit" in printed
    heavy = ("aether.backtest", "aether.engine", "aether.marketdata", "aether.storage",
             "aether.venues", "aether.strategies", "sqlalchemy", "numpy", "pandas")  # fmt: skip
    imported = sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in heavy))
    assert imported == []
