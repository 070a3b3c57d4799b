"""What the running app holds: settings, server URLs, the database engine, metrics and, when
market data is enabled, the market-data services."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from aether.api.market_services import MarketServices
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
    market: MarketServices | None = None  # None when market_data_enabled is off
