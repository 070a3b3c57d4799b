"""The import contracts hold, and each one fails on a deliberate violation.

``lint-imports`` (run by CI) checks the contracts in pyproject.toml over the real package.
Here a copy of the package gets one violation per contract and the same command must name
every one of them; the import graph between top-level packages is also checked for cycles
directly, so that rule does not rest on import-linter alone.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

import aether

ROOT = Path(aether.__file__).parent
PROJECT = ROOT.parent.parent

# One deliberate violation per contract: (file in a copy of the package, source, the line
# lint-imports must print).
VIOLATIONS = [
    (
        # The review's example: a blacklist let every one of these through.
        "engine/leaky_indicator.py",
        "import os\nimport pathlib\nimport random\nimport websockets\nimport aether.bus.subjects\n",
        [
            "aether.engine.leaky_indicator -> os",
            "aether.engine.leaky_indicator -> pathlib",
            "aether.engine.leaky_indicator -> random",
            "aether.engine.leaky_indicator -> websockets",
            "aether.engine.leaky_indicator -> aether.bus.subjects",
        ],
    ),
    ("venues/sim/leaky_clock.py", "import time\n", ["aether.venues.sim.leaky_clock -> time"]),
    (
        "venues/leaky_layer.py",
        "import aether.marketdata.pair_names\n",
        ["aether.venues.leaky_layer -> aether.marketdata.pair_names"],
    ),
    ("ops/leaky_layer.py", "import aether.api.app\n", ["aether.ops.leaky_layer -> aether.api.app"]),
    (
        "emulator/leaky_settings.py",
        "import aether.settings\n",
        ["aether.emulator.leaky_settings -> aether.settings"],
    ),
    (
        "emulator/exchange/leaky_market.py",
        "import aether.emulator.market.candles\n",
        ["aether.emulator.exchange.leaky_market -> aether.emulator.market.candles"],
    ),
    (
        "emulator/exchange/leaky_format.py",
        "import aether.emulator.kraken_format\n",
        ["aether.emulator.exchange.leaky_format -> aether.emulator.kraken_format"],
    ),
    (
        "storage/leaky_emulator.py",
        "import aether.emulator\n",
        ["aether.storage.leaky_emulator -> aether.emulator"],
    ),
]


def contract_names() -> list[str]:
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    return [contract["name"] for contract in config["tool"]["importlinter"]["contracts"]]


def top_level_cycles(graph: grimp.ImportGraph, root: str) -> list[list[str]]:
    """Groups of ``root``'s top-level packages and modules that import one another in a ring."""
    children = sorted(graph.find_children(root))
    edges: dict[str, set[str]] = {child: set() for child in children}
    for importer in children:
        for imported in children:
            if importer != imported and graph.direct_import_exists(
                importer=importer, imported=imported, as_packages=True
            ):
                edges[importer].add(imported)

    def reachable(start: str) -> set[str]:
        seen: set[str] = set()
        stack = [start]
        while stack:
            for nxt in edges[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    reach = {child: reachable(child) for child in children}
    cycles: list[list[str]] = []
    placed: set[str] = set()
    for child in children:
        if child in placed or child not in reach[child]:
            continue
        ring = sorted(other for other in reach[child] if child in reach[other])
        placed.update(ring)
        cycles.append(ring)
    return cycles


@pytest.fixture(scope="module")
def violated_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package with every violation above written into it."""
    where = tmp_path_factory.mktemp("violated")
    shutil.copytree(ROOT, where / "aether", ignore=shutil.ignore_patterns("__pycache__"))
    for relative, source, _ in VIOLATIONS:
        (where / "aether" / relative).write_text(source)
    return where


def run_lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "lint-imports"),
            "--config",
            str(PROJECT / "pyproject.toml"),
            "--no-cache",
        ],
        cwd=PROJECT,
        # The copy first, so it is the ``aether`` that is analysed; the project for tools/.
        # Wide enough that no contract name wraps across lines.
        env={
            "PYTHONPATH": f"{package_parent}:{PROJECT}",
            "PATH": "/usr/bin:/bin",
            "COLUMNS": "300",
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_contract_is_kept_by_the_package_as_it_is() -> None:
    result = run_lint_imports(ROOT.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


def test_every_contract_breaks_on_its_violation(violated_package: Path) -> None:
    result = run_lint_imports(violated_package)
    assert result.returncode != 0, result.stdout
    for _, _, expected in VIOLATIONS:
        for line in expected:
            assert line in result.stdout, f"{line!r} not reported:\n{result.stdout}"
    broken = {line for line in result.stdout.splitlines() if line.endswith("BROKEN")}
    for name in contract_names():
        assert any(line.startswith(name) for line in broken), f"{name!r} kept:\n{result.stdout}"


def test_no_cycle_between_top_level_packages() -> None:
    graph = grimp.build_graph("aether", cache_dir=None)
    assert top_level_cycles(graph, "aether") == []


def test_cycle_check_finds_a_ring(tmp_path: Path) -> None:
    ring = tmp_path / "ring"
    (ring / "ringpkg" / "a").mkdir(parents=True)
    (ring / "ringpkg" / "b").mkdir()
    (ring / "ringpkg" / "c").mkdir()
    (ring / "ringpkg" / "__init__.py").write_text("")
    (ring / "ringpkg" / "a" / "__init__.py").write_text("import ringpkg.b\n")
    (ring / "ringpkg" / "b" / "__init__.py").write_text("")
    (ring / "ringpkg" / "b" / "deep.py").write_text("import ringpkg.a\n")
    (ring / "ringpkg" / "c" / "__init__.py").write_text("import ringpkg.a\n")
    sys.path.insert(0, str(ring))
    try:
        graph = grimp.build_graph("ringpkg", cache_dir=None)
    finally:
        sys.path.remove(str(ring))
    assert top_level_cycles(graph, "ringpkg") == [["ringpkg.a", "ringpkg.b"]]


def test_every_package_says_what_it_holds_and_may_import() -> None:
    silent, unbounded = [], []
    for init in sorted(ROOT.rglob("__init__.py")):
        name = init.parent.relative_to(ROOT.parent).as_posix().replace("/", ".")
        if "migrations.versions" in name:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        if not doc:
            silent.append(name)
        elif name.count(".") == 1 and "import" not in doc:
            unbounded.append(name)  # a top-level package must state its import rule
    assert silent == []
    assert unbounded == []
