"""``aether accounts``: first-run initialisation, listing and the paper/live switch
(``mode``, in :mod:`aether.cli.account_mode`)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from aether.accounts import service
from aether.audit.keys import AuditKey
from aether.cli.account_mode import mode
from aether.cli.context import (
    DataDirOption,
    audit_key,
    database_url,
    run,
    session_scope,
    settings_for,
)
from aether.cli.output import console, fail, print_json

app = typer.Typer(help="Trading accounts.", no_args_is_help=True)
app.command("mode")(mode)
SYSTEM_ACTOR = "system:cli"


async def initialise_company(
    url: str,
    company_name: str,
    director_names: list[str],
    admin_name: str,
    actor: str = SYSTEM_ACTOR,
    *,
    key: AuditKey,
) -> service.Initialised:
    """Create the company, its director accounts and the first admin in one transaction,
    audited under ``key``.

    Raises ``service.AlreadyInitialisedError`` on a database that has them already.
    """
    async with session_scope(url, key) as session:
        return await service.initialise(
            session,
            company_name=company_name,
            director_names=director_names,
            admin_name=admin_name,
            actor=actor,
        )


@app.command()
def init(
    data_dir: DataDirOption = None,
    company: Annotated[
        str | None,
        typer.Option(help="Company account name [default: AETHER_COMPANY_ACCOUNT_NAME]."),
    ] = None,
    director: Annotated[
        list[str] | None,
        typer.Option(
            help="Director account name; give it twice [default: AETHER_DIRECTOR_ACCOUNT_NAMES]."
        ),
    ] = None,
    admin: Annotated[
        str | None, typer.Option(help="First admin user's name [default: AETHER_ADMIN_USER_NAME].")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Create the company account, two director accounts and the first admin, and print the
    admin's API key once."""
    settings = settings_for(data_dir)
    company_name = company or settings.company_account_name
    director_names = director or settings.director_account_names
    admin_name = admin or settings.admin_user_name
    missing = [
        flag
        for flag, value in (
            ("--company (or AETHER_COMPANY_ACCOUNT_NAME)", company_name),
            ("--director twice (or AETHER_DIRECTOR_ACCOUNT_NAMES)", director_names),
            ("--admin (or AETHER_ADMIN_USER_NAME)", admin_name),
        )
        if not value
    ]
    if missing:
        fail("no identity is assumed; give " + ", ".join(missing), code=2)
    assert company_name
    assert admin_name
    url = database_url(settings)
    chain_key = audit_key(settings)
    try:
        done = run(
            lambda: initialise_company(
                url, company_name, list(director_names), admin_name, key=chain_key
            )
        )
    except (service.AlreadyInitialisedError, ValueError) as exc:
        fail(str(exc))
    accounts = [done.company, *done.directors]
    if as_json:
        print_json(
            {
                "accounts": [{"id": str(a.id), "name": a.name, "kind": a.kind} for a in accounts],
                "admin": {"id": str(done.admin_user_id), "name": done.admin_name},
                "api_key": done.admin_key.token,
            }
        )
        return
    for a in accounts:
        console.print(f"created {a.kind} account [bold]{a.name}[/] ({a.id}), mode {a.mode}")
    console.print(f"created admin user [bold]{done.admin_name}[/]")
    console.print("API key (shown once, store it now):", style="yellow")
    typer.echo(done.admin_key.token)


@app.command("list")
def list_(
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List every account."""
    url = database_url(settings_for(data_dir))

    async def work() -> list[dict[str, str]]:
        async with session_scope(url) as session:
            rows = await service.list_accounts(session)
            return [
                {
                    "id": str(r.id),
                    "name": r.name,
                    "kind": r.kind,
                    "mode": r.mode,
                    "status": r.status,
                }
                for r in rows
            ]

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "name", "kind", "mode", "status", title="Accounts")
    for r in rows:
        table.add_row(r["id"], r["name"], r["kind"], r["mode"], r["status"])
    console.print(table)
