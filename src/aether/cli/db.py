"""``aether db``: schema migrations."""

from __future__ import annotations

import typer

from aether.cli.context import DataDirOption, database_url, run, settings_for
from aether.cli.output import console
from aether.storage import migrate

app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)


@app.command()
def upgrade(
    data_dir: DataDirOption = None,
    revision: str = typer.Option("head", help="Target revision."),
) -> None:
    """Apply migrations up to a revision (default: the newest)."""
    url = database_url(settings_for(data_dir))
    migrate.upgrade(url, revision)
    console.print(f"database at revision {run(lambda: migrate.current_revision(url))}")


@app.command()
def current(data_dir: DataDirOption = None) -> None:
    """Print the database's revision and whether it is the newest."""
    url = database_url(settings_for(data_dir))
    revision = run(lambda: migrate.current_revision(url))
    head = migrate.head_revision()
    state = "up to date" if revision == head else f"behind (newest is {head})"
    console.print(f"{revision or 'none (never migrated)'}: {state}")
