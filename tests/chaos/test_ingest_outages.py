"""Killing NATS or PostgreSQL under a running ingest: not-ready with the reason, the Kraken
WebSocket untouched, recovery on the same port, and the hole recorded as a gap."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import asyncpg
import nats
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry

from aether.marketdata.assembly import build_market_feed
from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import LocalStack
from tests.integration.emulator.conftest import Emulator
from tests.integration.marketdata.test_feed import (
    feed_settings,
    prepare_database,
    trade_counts,
)
from tests.support.polling import eventually


async def gaps(url: str, reason_like: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch(
            "SELECT symbol, kind, start, end_at, reason FROM market_gaps "
            "WHERE source = 'ingest' AND reason LIKE $1",
            reason_like,
        )
    finally:
        await conn.close()


async def test_a_nats_outage_keeps_the_websocket_and_is_recorded_as_a_gap(
    synthetic: Emulator, stack: tuple[LocalStack, ServerUrls], tmp_path: Path
) -> None:
    local, urls = stack
    await prepare_database(urls.database_url, {"XBTUSD": ["book", "trade"]})
    registry = CollectorRegistry()
    feed = build_market_feed(
        feed_settings(tmp_path, synthetic.url), urls, registry, retry_seconds=0.2
    )
    await feed.start()
    try:
        await eventually(lambda: feed.readiness()[0])
        connections = feed.stream.connections
        await asyncio.to_thread(local.server("nats").stop, 10)
        _ok, detail = await eventually(
            lambda: (r := feed.readiness()) and not r[0] and r, within=30
        )
        assert "bus unreachable" in detail
        # Events keep arriving and are not published (nothing is queued for later).
        await eventually(lambda: registry.get_sample_value("aether_market_unpublished_total"))
        assert feed.stream.connected
        await asyncio.to_thread(local.start, ["nats"])
        await eventually(lambda: feed.readiness()[0], within=20)
        # Publishing resumes on the restarted server.
        got: list[Msg] = []
        bus = await nats.connect(urls.nats_url)
        try:

            async def keep(msg: Msg) -> None:
                got.append(msg)

            await bus.subscribe("md.kraken.XBTUSD.book", cb=keep)
            await eventually(lambda: got)
        finally:
            await bus.close()
        assert feed.stream.connections == connections  # the Kraken socket never dropped
        holes = await eventually(lambda: gaps(urls.database_url, "bus unreachable%"))
        assert {(g["symbol"], g["kind"]) for g in holes} == {
            ("XBTUSD", "book"),
            ("XBTUSD", "trade"),
        }
        assert all(g["end_at"] is not None and g["end_at"] > g["start"] for g in holes)
    finally:
        await feed.stop()


async def test_a_stalled_nats_is_noticed_in_seconds_and_recovered(
    synthetic: Emulator, stack: tuple[LocalStack, ServerUrls], tmp_path: Path
) -> None:
    # SIGSTOP: the TCP connection stays open and nothing answers, so only the bus pings
    # notice it (nats-py's default pinged every two minutes: not-ready came minutes late).
    local, urls = stack
    await prepare_database(urls.database_url, {"XBTUSD": ["trade"]})
    feed = build_market_feed(feed_settings(tmp_path, synthetic.url), urls, CollectorRegistry())
    await feed.start()
    nats_pid = local.server("nats").pid
    assert nats_pid is not None
    try:
        await eventually(lambda: feed.readiness()[0])
        os.kill(nats_pid, signal.SIGSTOP)
        try:
            _ok, detail = await eventually(
                lambda: (r := feed.readiness()) and not r[0] and r, within=30
            )
        finally:
            os.kill(nats_pid, signal.SIGCONT)
        assert "bus unreachable" in detail
        await eventually(lambda: feed.readiness()[0], within=30)
    finally:
        await feed.stop()


async def test_a_postgres_outage_buffers_drops_the_oldest_and_records_the_hole(
    synthetic: Emulator, stack: tuple[LocalStack, ServerUrls], tmp_path: Path
) -> None:
    local, urls = stack
    await prepare_database(urls.database_url, {"XBTUSD": ["trade"], "ETHUSD": ["trade"]})
    settings = feed_settings(tmp_path, synthetic.url, ingest_buffer_rows=100)
    feed = build_market_feed(settings, urls, CollectorRegistry(), retry_seconds=0.2)
    await feed.start()
    try:
        await eventually(lambda: feed.readiness()[0])
        await eventually(lambda: trade_counts(urls.database_url))
        connections = feed.stream.connections
        await asyncio.to_thread(local.server("postgres").stop, 10)
        _ok, detail = await eventually(
            lambda: (r := feed.readiness()) and not r[0] and r, within=30
        )
        assert "database unreachable" in detail
        await eventually(lambda: feed.writer.dropped > 0, within=30)
        assert feed.stream.connected
        assert len(feed.writer.trades) == 100  # bounded
        await asyncio.to_thread(local.start, ["postgres"])
        await eventually(lambda: feed.readiness()[0], within=20)
        assert feed.stream.connections == connections
        holes = await eventually(lambda: gaps(urls.database_url, "ingest buffer full%"))
        assert {g["kind"] for g in holes} == {"trade"}
        assert all(g["end_at"] >= g["start"] for g in holes)
    finally:
        await feed.stop()
    stored, distinct = await trade_counts(urls.database_url)
    assert stored == distinct > 0
