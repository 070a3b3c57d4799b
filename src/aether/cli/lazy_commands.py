"""The command groups of ``aether``, each imported only when it runs.

``aether --help`` lists every group by the one-line help kept in ``LAZY_COMMANDS``, so it
imports no command module; a test proves each line equals the help of the real command, so
the two cannot drift apart.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TypeAlias

import typer
from typer.core import TyperCommand, TyperGroup

# Typer's own commands and groups: what every command module's Typer app is made of.
Command: TypeAlias = TyperCommand | TyperGroup


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """A command of ``aether`` that lives in the Typer ``app`` of ``module``.

    ``command`` names it inside that app; None when the whole app is the command group.
    ``help`` is what the root help lists: the first paragraph of the real command's help.
    """

    module: str
    help: str
    command: str | None = None

    def load(self, name: str) -> Command:
        """Import the module and return the real command, named ``name``."""
        group = typer.main.get_group(importlib.import_module(self.module).app)
        if self.command is None:
            group.name = name
            return group
        return _typer_command(group.commands[self.command])  # a KeyError names a typo

    def listing(self, name: str) -> TyperCommand:
        """A stand-in carrying only the name and the help, for the root help's list."""
        return TyperCommand(name=name, help=self.help)


LAZY_COMMANDS: dict[str, LazyCommand] = {
    "up": LazyCommand(
        "aether.cli.stack",
        "Start PostgreSQL, NATS and Redis (embedded unless URLs are set), migrate, serve the API.",
        "up",
    ),
    "down": LazyCommand(
        "aether.cli.stack",
        "Stop a detached platform and every embedded server under the data directory.",
        "down",
    ),
    "status": LazyCommand(
        "aether.cli.stack",
        "What runs, on which ports, with which PIDs, and where data and logs are.",
        "status",
    ),
    "db": LazyCommand("aether.cli.db", "Database schema migrations (Alembic)."),
    "accounts": LazyCommand("aether.cli.accounts", "Trading accounts."),
    "users": LazyCommand("aether.cli.users", "Users and their account grants."),
    "keys": LazyCommand("aether.cli.keys", "API keys."),
    "audit": LazyCommand("aether.cli.audit", "The append-only audit log."),
    "vault": LazyCommand(
        "aether.cli.vault", "The credential vault: account API keys under envelope encryption."
    ),
    "runner": LazyCommand(
        "aether.cli.runner",
        "Run an account runner: take accounts by lease and trade them until Ctrl-C.",
        "runner",
    ),
    "backtest": LazyCommand(
        "aether.cli.backtest",
        "Run a strategy over history with the SimBroker; print a summary, write a report.",
        "backtest",
    ),
    "emulator": LazyCommand(
        "aether.cli.emulator", "The local Kraken exchange emulator (REST), for tests and demos."
    ),
    "data": LazyCommand(
        "aether.cli.data", "History imports: Kraken CSV, Kraken trade backfill, CoinGecko."
    ),
}


class LazyGroup(TyperGroup):
    """The root group: lists the lazy commands from the table, imports one when it runs.

    Its methods take the context as ``object``: the base methods name the Context class of
    the click that typer vendors in a private module, and ``object`` accepts it without
    naming it. The group's own contexts are ``typer.Context`` (a public subclass), which is
    what ``resolve_command`` hands on.
    """

    context_class = typer.Context

    def list_commands(self, ctx: object) -> list[str]:
        return [*self.commands, *LAZY_COMMANDS]

    def get_command(self, ctx: object, cmd_name: str) -> Command | None:
        """An eager command as it is; a lazy one as its listing (help and completion lists
        ask for every command, and must import none)."""
        lazy = LAZY_COMMANDS.get(cmd_name)
        if lazy is not None:
            return lazy.listing(cmd_name)
        command = self.commands.get(cmd_name)
        return None if command is None else _typer_command(command)

    def resolve_command(
        self, ctx: object, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        """The command that ``args`` invoke; a lazy one is imported now, as it is about to
        run (or to print its own help)."""
        if not isinstance(ctx, typer.Context):
            raise TypeError(f"expected a typer.Context, got {type(ctx).__name__}")
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and name in LAZY_COMMANDS:
            return name, LAZY_COMMANDS[name].load(name), rest
        return name, None if command is None else _typer_command(command), rest


def _typer_command(command: object) -> Command:
    """``command`` as Typer's command or group type; every command here is one of them."""
    if isinstance(command, Command):
        return command
    raise TypeError(f"not a Typer command: {command!r}")
