"""Console output and failure exits shared by every command."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` as an error on stderr and exit with ``code``."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(payload: Any) -> None:
    """Machine-readable output for scripts: plain JSON on stdout, nothing else."""
    typer.echo(json.dumps(payload, indent=2, default=str))


def settings_error(exc: ValidationError) -> NoReturn:
    """Explain invalid settings by naming each environment variable at fault."""
    lines = [
        f"AETHER_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
        for err in exc.errors()
    ]
    fail("invalid settings:\n  " + "\n  ".join(lines), code=2)
