"""The ``aether`` command."""

from __future__ import annotations

import typer

from aether import __version__
from aether.cli import accounts, audit, db, keys, stack, users

app = typer.Typer(
    name="aether",
    help="Aether: autonomous trading platform for Kraken spot USD pairs.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
stack.register(app)
app.add_typer(db.app, name="db")
app.add_typer(accounts.app, name="accounts")
app.add_typer(users.app, name="users")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")


@app.command()
def version() -> None:
    """Print the installed Aether version."""
    typer.echo(__version__)


def main() -> None:
    app()
