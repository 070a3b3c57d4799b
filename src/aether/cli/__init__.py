"""The ``aether`` command: one module per command group, each imported when it runs.

``lazy_commands`` lists the groups with their one-line help, so ``aether --help`` imports
none of them; a group's module imports only what its options need, and a command that
needs a heavy stack (the API, the engine, the database) imports it when it runs.

A composition root, with ``aether.platform``: it may import every layer and build
components from the whole ``Settings``; it is the only importer of ``aether.emulator``;
nothing imports it.
"""

from __future__ import annotations

import typer

from aether import __version__
from aether.cli.lazy_commands import LazyGroup

app = typer.Typer(
    name="aether",
    cls=LazyGroup,
    help="Aether: autonomous trading platform for Kraken spot USD pairs.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@app.callback()
def root() -> None:
    """Aether: autonomous trading platform for Kraken spot USD pairs."""


@app.command()
def version() -> None:
    """Print the installed Aether version."""
    typer.echo(__version__)


def main() -> None:
    app()
