"""Async engine and session factory for PostgreSQL (asyncpg driver)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def sqlalchemy_url(database_url: str) -> URL:
    """Turn a plain ``postgresql://`` URL into one that names the asyncpg driver.

    ``sslmode`` (libpq spelling) is translated to asyncpg's ``ssl`` parameter.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"database URL must be postgresql://, got {url.get_backend_name()}://")
    url = url.set(drivername="postgresql+asyncpg")
    query = dict(url.query)
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    return url.set(query=query)


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine with bounded connect and pool waits, so a dead server fails fast.

    Bound parameters never appear in its errors or logs (``hide_parameters``): they hold key
    hashes, names and amounts.
    """
    return create_async_engine(
        sqlalchemy_url(database_url),
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=5,
        pool_pre_ping=True,
        connect_args={"timeout": 5, "command_timeout": 30},
    )


def session_factory(
    engine: AsyncEngine, *, info: Mapping[str, object] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions of ``engine``, each carrying ``info`` in ``session.info``.

    The audit log refuses a session that does not carry its key: build those with
    ``info=aether.audit.keys.audit_session_info(key)``.
    """
    return async_sessionmaker(engine, expire_on_commit=False, info=dict(info or {}))
