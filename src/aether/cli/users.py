"""``aether users``: people who use the platform, and their per-account roles."""

from __future__ import annotations

import uuid
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
from aether.cli.output import console, fail
from aether.domain.accounts import Role
from aether.security import users

app = typer.Typer(help="Users and their account grants.", no_args_is_help=True)


def _parse_grant(text: str) -> tuple[uuid.UUID, Role]:
    account, sep, role = text.partition("=")
    try:
        if not sep:
            raise ValueError
        return uuid.UUID(account), Role(role)
    except ValueError:
        fail(f"--grant {text!r}: expected ACCOUNT_ID=viewer|trader|admin", code=2)


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="Unique user name.")],
    grant: Annotated[
        list[str] | None,
        typer.Option(help="ACCOUNT_ID=ROLE (viewer, trader or admin); repeatable."),
    ] = None,
    platform_admin: Annotated[
        bool, typer.Option("--platform-admin", help="May create accounts and manage keys.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Create a user, optionally with roles on accounts. Issue a key with `aether keys create`."""
    grants = [_parse_grant(g) for g in grant or []]
    settings = settings_for(data_dir)
    url, chain_key = database_url(settings), audit_key(settings)

    async def work() -> None:
        async with session_scope(url, chain_key) as session:
            user = await users.create(
                session, name=name, is_platform_admin=platform_admin, actor="system:cli"
            )
            for account_id, role in grants:
                await users.grant(
                    session, user_id=user.id, account_id=account_id, role=role, actor="system:cli"
                )

    try:
        run(work)
    except users.UserExistsError as exc:
        fail(str(exc))
    except Exception as exc:
        if "foreign key" in str(exc).lower():
            fail("a --grant names an account that does not exist")
        raise
    console.print(f"created user [bold]{name}[/] with {len(grants)} grant(s)")
