"""What the running app holds: settings, server URLs, the database engine and metrics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from aether.ops.endpoints import ServerUrls
from aether.ops.metrics import ApiMetrics
from aether.settings import Settings


@dataclass(slots=True)
class AppState:
    settings: Settings
    urls: ServerUrls
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metrics: ApiMetrics
