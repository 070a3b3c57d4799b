"""No module passes 400 lines and no function 80: past that a file holds more than one idea.

Generated migration scripts are exempt (Alembic writes them, and they are read once).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import aether

ROOT = Path(aether.__file__).parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
EXEMPT = ("storage/migrations/versions/",)


def oversized(source: str, name: str) -> list[str]:
    """``name`` (and ``name:line function``) for a module or function past its limit."""
    found = []
    lines = source.count("\n") + (0 if source.endswith("\n") else 1)
    if lines > MAX_MODULE_LINES:
        found.append(f"{name}: {lines} lines")
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{name}:{node.lineno} {node.name}(): {length} lines")
    return found


def test_no_module_or_function_is_oversized() -> None:
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if not name.startswith(EXEMPT):
            offenders += oversized(path.read_text(), name)
    assert offenders == []


def test_the_check_catches_a_long_module_and_a_long_function() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    long_function = f"def long():\n{body}"
    assert oversized(long_function, "f.py") == [f"f.py:1 long(): {MAX_FUNCTION_LINES + 1} lines"]
    long_module = "x = 1\n" * (MAX_MODULE_LINES + 1)
    assert oversized(long_module, "m.py") == [f"m.py: {MAX_MODULE_LINES + 1} lines"]
    fitting = textwrap.dedent(
        """
        async def short():
            return 1
        """
    )
    assert oversized(fitting, "ok.py") == []
