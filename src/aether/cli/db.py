"""``aether db``: schema migrations."""

from __future__ import annotations

import typer

from aether.cli.context import DataDirOption, database_url, run, settings_for
from aether.cli.output import console, fail
from aether.platform.errors import PlatformError
from aether.platform.servers import running_database_owner_url
from aether.storage import migrate
from aether.storage.roles import APP_ROLE

app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)


@app.command()
def upgrade(
    data_dir: DataDirOption = None,
    revision: str = typer.Option("head", help="Target revision."),
) -> None:
    """Apply migrations up to a revision (default: the newest), as the owner role
    (AETHER_DATABASE_OWNER_URL, or the local stack's owner)."""
    settings = settings_for(data_dir)
    database_url(settings)  # exits naming what to do when the platform's database is down
    try:
        url = running_database_owner_url(settings)
    except PlatformError as exc:
        fail(str(exc))
    app_role = APP_ROLE if settings.database_url is None else settings.database_app_role
    migrate.upgrade(url, revision, app_role=app_role)
    console.print(f"database at revision {run(lambda: migrate.current_revision(url))}")


@app.command()
def current(data_dir: DataDirOption = None) -> None:
    """Print the database's revision and whether it is the newest."""
    url = database_url(settings_for(data_dir))
    revision = run(lambda: migrate.current_revision(url))
    head = migrate.head_revision()
    state = "up to date" if revision == head else f"behind (newest is {head})"
    console.print(f"{revision or 'none (never migrated)'}: {state}")
