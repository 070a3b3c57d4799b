"""Market-data components built from the platform's whole ``Settings``.

The one module of ``aether.marketdata`` that reads ``Settings``: every component takes a
typed, frozen config of the fields it uses, and the composition root (the process that
runs them) calls these builders. Nothing here starts a connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.bus.publisher import BusPublisher
from aether.marketdata.feed.config import CANDLE_MINUTES, MarketFeedConfig
from aether.marketdata.feed.metrics import FeedMetrics
from aether.marketdata.feed.service import MarketFeed
from aether.marketdata.feed.writer import IngestWriter
from aether.marketdata.registry import InstrumentRegistry, RegistryConfig
from aether.ops.endpoints import ServerUrls
from aether.settings import Settings
from aether.venues.kraken.ws import KrakenMarketStream

#: The ingest's connection name on NATS (visible in the server's connection list).
INGEST_BUS_NAME = "aether-ingest"
#: The Kraken stream reports silence after this long at most, sooner when pairs go stale
#: sooner (``market_stale_seconds``).
MAX_STREAM_SILENCE_SECONDS = 5.0


def feed_config(
    settings: Settings, *, resync_seconds: float = 30.0, retry_seconds: float = 0.5
) -> MarketFeedConfig:
    """The feed's own fields of ``settings`` (the timings are not settings)."""
    return MarketFeedConfig(
        stale_seconds=settings.market_stale_seconds,
        stream_max_age_seconds=settings.market_stream_max_age_seconds,
        stream_max_bytes=settings.market_stream_max_bytes,
        resync_seconds=resync_seconds,
        retry_seconds=retry_seconds,
    )


def build_market_feed(
    settings: Settings,
    urls: ServerUrls,
    metrics_registry: CollectorRegistry,
    *,
    clock: Callable[[], int] = time.time_ns,
    resync_seconds: float = 30.0,
    flush_seconds: float = 0.25,
    retry_seconds: float = 0.5,
) -> MarketFeed:
    """The ingest with its Kraken stream, database writer and bus publisher, not started.

    ``retry_seconds`` paces every part's reconnects; ``flush_seconds`` the writer's batches;
    the metrics are registered on ``metrics_registry``.
    """
    metrics = FeedMetrics(metrics_registry)
    stream = KrakenMarketStream(
        settings.kraken_ws_public,
        [],
        ohlc_minutes=CANDLE_MINUTES,
        stale_after=min(MAX_STREAM_SILENCE_SECONDS, settings.market_stale_seconds),
        reconnect_delay=retry_seconds,
        clock=clock,
    )
    writer = IngestWriter(
        urls.database_url,
        metrics,
        capacity=settings.ingest_buffer_rows,
        flush_seconds=flush_seconds,
        retry_seconds=retry_seconds,
        clock=clock,
    )
    # The feed installs its connect and outage handlers on the publisher it is given.
    bus = BusPublisher(
        urls.nats_url, name=INGEST_BUS_NAME, retry_seconds=retry_seconds, clock=clock
    )
    config = feed_config(settings, resync_seconds=resync_seconds, retry_seconds=retry_seconds)
    return MarketFeed(config, stream=stream, writer=writer, bus=bus, metrics=metrics, clock=clock)


def registry_config(settings: Settings) -> RegistryConfig:
    """The instrument registry's fields of ``settings``."""
    return RegistryConfig(
        rest_base=settings.kraken_rest_base,
        usd_stablecoin_quotes=tuple(settings.usd_stablecoin_quotes),
        refresh_seconds=settings.instrument_refresh_seconds,
    )


def build_instrument_registry(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> InstrumentRegistry:
    """The instrument registry of one process, not started."""
    return InstrumentRegistry(registry_config(settings), sessions)
