"""Settings and database access for commands that talk to a running platform."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit.keys import AuditKey, AuditKeyError, audit_session_info, resolve_audit_key
from aether.cli.output import fail, settings_error
from aether.platform.errors import PlatformError
from aether.platform.servers import running_database_url
from aether.settings import Settings, load_settings
from aether.storage.database import create_engine, session_factory

T = TypeVar("T")

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where the local stack keeps data and logs [default: AETHER_DATA_DIR or ./.aether].",
        show_default=False,
    ),
]


def settings_for(data_dir: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment plus CLI flags; invalid settings exit with code 2."""
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        settings_error(exc)


def database_url(settings: Settings) -> str:
    try:
        return running_database_url(settings)
    except PlatformError as exc:
        fail(str(exc))


def audit_key(settings: Settings) -> AuditKey:
    """The audit chain's key (for commands that append to or verify it); exits 1 if none."""
    try:
        return resolve_audit_key(settings)
    except AuditKeyError as exc:
        fail(str(exc))


@asynccontextmanager
async def session_scope(url: str, key: AuditKey | None = None) -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on error; with ``key`` it may append
    to and verify the audit log."""
    engine = create_engine(url, pool_size=1)
    try:
        sessions = session_factory(engine, info=audit_session_info(key))
        async with sessions() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


def run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(work())
