"""Migrations before start: who migrates, and the check of the run-time role after it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import LocalStack
from aether.platform.errors import PlatformError
from aether.platform.servers import reveal
from aether.settings import Profile, Settings
from aether.storage.migrate import current_revision, head_revision, upgrade
from aether.storage.roles import APP_ROLE, check_runtime_role

log = structlog.get_logger("aether.platform")


def migration_target(settings: Settings, stack: LocalStack | None) -> tuple[str | None, str]:
    """Who migrates (the owner's URL, None when production leaves it to ``aether db upgrade``)
    and which run-time role the migrations grant to."""
    if settings.database_url is None and stack is not None:
        return stack.postgres().owner_url, APP_ROLE
    if settings.database_owner_url is not None:
        return settings.database_owner_url.get_secret_value(), settings.database_app_role
    if settings.profile is Profile.PRODUCTION:
        return None, settings.database_app_role
    return reveal(settings.database_url), settings.database_app_role


def prepare_database(
    settings: Settings, stack: LocalStack | None, urls: ServerUrls, say: Callable[[str], None]
) -> None:
    """Migrate as the owner (or, in production without an owner URL, require the newest
    schema), then check the run-time role: production refuses one that is a superuser, owns a
    table or may rewrite the audit log; other profiles log a warning."""
    owner_url, app_role = migration_target(settings, stack)
    if owner_url is not None:
        say("applying database migrations")
        try:
            upgrade(owner_url, app_role=app_role)
        except RuntimeError as exc:  # a migration's own refusal, which says what to do
            raise PlatformError(f"migrations refused: {exc}") from exc
    else:
        revision, head = asyncio.run(current_revision(urls.database_url)), head_revision()
        if revision != head:
            raise PlatformError(
                f"the database is at revision {revision or 'none'}, the newest is {head}: run "
                "`aether db upgrade` with AETHER_DATABASE_OWNER_URL set"
            )
    problems = asyncio.run(check_runtime_role(urls.database_url))
    if not problems:
        return
    if settings.profile is Profile.PRODUCTION:
        raise PlatformError(
            "refusing to start the production profile: "
            + "; ".join(problems)
            + " (the run-time role must hold only what migrations grant it; see "
            "docs/operations.md, 'Database roles')"
        )
    log.warning("the database role has more rights than the platform needs", problems=problems)
