"""Market-data components take typed, frozen configs and their parts; ``assembly`` alone
maps the whole ``Settings`` onto them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from aether.bus.publisher import BusPublisher
from aether.marketdata.assembly import build_market_feed, feed_config, registry_config
from aether.marketdata.feed.config import CANDLE_MINUTES, MarketFeedConfig
from aether.marketdata.feed.metrics import FeedMetrics
from aether.marketdata.feed.service import MarketFeed
from aether.marketdata.feed.writer import IngestWriter
from aether.marketdata.registry import RegistryConfig
from aether.ops.endpoints import ServerUrls
from aether.settings import Settings
from aether.venues.kraken.ws import KrakenMarketStream

URLS = ServerUrls("postgresql://u:p@127.0.0.1:9/db", "nats://127.0.0.1:9", "redis://127.0.0.1:9")


def settings(tmp_path: Path) -> Settings:
    return Settings(
        profile="test",  # type: ignore[arg-type]
        data_dir=tmp_path,
        kraken_rest_url="http://127.0.0.1:9/",
        kraken_ws_url="ws://127.0.0.1:9/v2",
        market_stale_seconds=4.0,
        market_stream_max_age_seconds=600,
        market_stream_max_bytes=2_097_152,
        ingest_buffer_rows=1234,
        instrument_refresh_seconds=120.0,
        usd_stablecoin_quotes=["USDT"],
    )


def test_the_feed_config_holds_only_the_feeds_own_settings_and_is_frozen(
    tmp_path: Path,
) -> None:
    config = feed_config(settings(tmp_path), resync_seconds=7.0, retry_seconds=0.2)
    assert config == MarketFeedConfig(4.0, 600, 2_097_152, resync_seconds=7.0, retry_seconds=0.2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.stale_seconds = 1.0  # type: ignore[misc]


def test_the_feed_uses_the_parts_it_is_given(tmp_path: Path) -> None:
    metrics = FeedMetrics(CollectorRegistry())
    stream = KrakenMarketStream("ws://127.0.0.1:9/v2", [], ohlc_minutes=CANDLE_MINUTES)
    writer = IngestWriter(URLS.database_url, metrics, capacity=100)
    bus = BusPublisher(URLS.nats_url, name="test-ingest")
    config = MarketFeedConfig(stale_seconds=2.0, stream_max_age_seconds=60, stream_max_bytes=1)
    feed = MarketFeed(config, stream=stream, writer=writer, bus=bus, metrics=metrics)
    assert (feed.stream, feed.writer, feed.bus, feed.metrics) == (stream, writer, bus, metrics)
    assert feed.freshness.stale_after_ns == 2 * 10**9
    # The feed hears the bus's (re)connects and outages: its streams and outage gaps.
    assert bus.on_connect is not None
    assert bus.on_outage is not None


def test_the_builder_wires_the_settings_into_every_part(tmp_path: Path) -> None:
    feed = build_market_feed(settings(tmp_path), URLS, CollectorRegistry(), retry_seconds=0.3)
    assert feed.config == feed_config(settings(tmp_path), retry_seconds=0.3)
    assert feed.stream.url == "ws://127.0.0.1:9/v2"
    assert (feed.stream.stale_after, feed.stream.reconnect_delay) == (4.0, 0.3)
    assert feed.stream.ohlc_minutes == CANDLE_MINUTES
    assert feed.writer.capacity == 1234
    assert feed.writer.url == URLS.database_url
    assert (feed.bus.url, feed.bus.retry_seconds) == (URLS.nats_url, 0.3)
    assert feed.writer.metrics is feed.metrics


def test_the_registry_config_holds_only_the_registrys_settings(tmp_path: Path) -> None:
    config = registry_config(settings(tmp_path))
    assert config == RegistryConfig("http://127.0.0.1:9", ("USDT",), 120.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.refresh_seconds = 1.0  # type: ignore[misc]
