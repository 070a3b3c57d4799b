"""The ``aether`` command.

Command groups are imported when they are invoked, not at start-up: the platform commands
pull in the database, the API and the local stack, and ``aether backtest`` must not pay for
them (its whole run has a time budget).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:  # typer vendors click; these are its types
    from typer._click.core import Command, Context

from aether import __version__

# command name -> (module, the Typer app it lives in, the command's name inside that app or
# None when the whole app is the command group)
_LAZY: dict[str, tuple[str, str | None]] = {
    "up": ("aether.cli.stack", "up"),
    "down": ("aether.cli.stack", "down"),
    "status": ("aether.cli.stack", "status"),
    "db": ("aether.cli.db", None),
    "accounts": ("aether.cli.accounts", None),
    "users": ("aether.cli.users", None),
    "keys": ("aether.cli.keys", None),
    "audit": ("aether.cli.audit", None),
    "backtest": ("aether.cli.backtest", "backtest"),
    "emulator": ("aether.cli.emulator", None),
    "data": ("aether.cli.data", None),
}


class LazyGroup(TyperGroup):
    """A Typer group whose subcommands are imported on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        return [*super().list_commands(ctx), *_LAZY]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if cmd_name not in _LAZY:
            return super().get_command(ctx, cmd_name)
        module_name, command = _LAZY[cmd_name]
        module = importlib.import_module(module_name)
        group = typer.main.get_group(module.app)
        if command is None:
            group.name = cmd_name
            return group
        return group.commands[command]


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
