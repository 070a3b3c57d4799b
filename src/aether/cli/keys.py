"""``aether keys``: issue and revoke API keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from aether.cli.context import (
    DataDirOption,
    audit_key,
    database_url,
    run,
    session_scope,
    settings_for,
)
from aether.cli.output import console, fail, print_json
from aether.domain.accounts import Scope
from aether.security import key_store, users

app = typer.Typer(help="API keys.", no_args_is_help=True)


@app.command()
def create(
    user: Annotated[str, typer.Option("--user", help="The user the key belongs to.")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "cli",
    scope: Annotated[
        list[Scope] | None,
        typer.Option(help="read, trade or admin; repeatable [default: from the user's roles]."),
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Expire after this many days [default: never].")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Issue an API key for a user and print it once."""
    settings = settings_for(data_dir)
    url, chain_key = database_url(settings), audit_key(settings)
    expires = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None

    async def work() -> tuple[uuid.UUID, str, list[str]]:
        async with session_scope(url, chain_key) as session:
            row = await users.get_by_name(session, user)
            scopes = scope
            if not scopes:
                role = await users.highest_role(session, row.id)
                scopes = key_store.scopes_for_role(role) if role else [Scope.READ]
            if row.is_platform_admin and not scope:
                scopes = list(Scope)
            key, new = await key_store.issue(
                session,
                user_id=row.id,
                name=name,
                scopes=scopes,
                expires_at=expires,
                actor="system:cli",
            )
            return key.id, new.token, key.scopes

    try:
        key_id, token, scopes = run(work)
    except users.UserNotFoundError as exc:
        fail(f"--user: {exc}")
    if as_json:
        print_json({"id": str(key_id), "user": user, "scopes": scopes, "api_key": token})
        return
    console.print(f"key {key_id} for [bold]{user}[/] with scopes {', '.join(scopes)}")
    console.print("API key (shown once, store it now):", style="yellow")
    typer.echo(token)


@app.command()
def revoke(
    key_id: Annotated[uuid.UUID, typer.Argument(help="The key's id.")],
    data_dir: DataDirOption = None,
) -> None:
    """Revoke an API key (takes effect on its next use)."""
    settings = settings_for(data_dir)
    url, chain_key = database_url(settings), audit_key(settings)

    async def work() -> None:
        async with session_scope(url, chain_key) as session:
            row = await key_store.get(session, key_id)
            await key_store.revoke(session, row, actor="system:cli")

    try:
        run(work)
    except key_store.KeyNotFoundError:
        fail(f"no API key with id {key_id}")
    except key_store.LastAdminKeyError as exc:
        fail(str(exc))
    console.print(f"revoked {key_id}")
