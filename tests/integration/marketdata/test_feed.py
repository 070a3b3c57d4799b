"""The ingest against a real emulator, real NATS and a per-test database: subjects, storage
without duplicates, per-pair subscription changes (table and control subject)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import nats
import orjson
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry

from aether.bus.barrier import barrier
from aether.bus.streams import MARKET_STREAM
from aether.bus.subjects import SUBSCRIPTIONS_CHANGED
from aether.domain.events import BookSnapshot, Tick
from aether.marketdata import wire
from aether.marketdata.assembly import build_market_feed
from aether.marketdata.feed.service import MarketFeed
from aether.ops.endpoints import ServerUrls
from aether.settings import Settings
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import market_settings
from tests.support.polling import eventually

PAIRS = {"XBTUSD": "BTC/USD", "ETHUSD": "ETH/USD"}


def feed_settings(tmp_path: Path, emulator_url: str, **overrides: Any) -> Settings:
    """``market_settings`` with the ingest's staleness cut to 3 s."""
    return market_settings(tmp_path, emulator_url, **{"market_stale_seconds": 3.0, **overrides})


async def prepare_database(url: str, subscriptions: dict[str, list[str]]) -> None:
    """Instrument rows for both traded pairs and the given subscriptions."""
    conn = await asyncpg.connect(url)
    try:
        for symbol, ws_symbol in PAIRS.items():
            await conn.execute(
                "INSERT INTO instruments (symbol, ws_symbol, base, quote, tick_size, lot_size, "
                "min_quantity, min_cost, fees, status, refreshed_at) VALUES "
                "($1, $2, $3, 'USD', 0.1, 0.00000001, 0.0001, 0.5, '[]', 'online', now())",
                symbol,
                ws_symbol,
                symbol[:3],
            )
        for symbol, kinds in subscriptions.items():
            await conn.execute(
                "INSERT INTO market_subscriptions (symbol, kinds, created_by) VALUES ($1, $2, 't')",
                symbol,
                kinds,
            )
    finally:
        await conn.close()


async def trade_counts(url: str) -> tuple[int, int]:
    """(stored trades, distinct (symbol, trade_id))."""
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT (symbol, trade_id)) AS d FROM market_trades"
        )
    finally:
        await conn.close()
    assert row is not None
    return int(row["n"]), int(row["d"])


def requests_since(feed: MarketFeed, mark: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, channel, symbols) of what the stream sent after ``mark`` requests."""
    sent = list(feed.stream.requests)[mark:]
    return [(r["method"], r["channel"], tuple(r.get("symbol", ()))) for r in sent]


async def test_ingest_publishes_stores_and_changes_one_pair_at_a_time(
    synthetic: Emulator, aether_urls: ServerUrls, tmp_path: Path
) -> None:
    await prepare_database(aether_urls.database_url, {"XBTUSD": ["book", "trade", "ohlc"]})
    received: list[tuple[str, wire.WireMessage]] = []

    async def collect(msg: Msg) -> None:
        received.append((msg.subject, wire.decode(msg.data)))

    bus = await nats.connect(aether_urls.nats_url)
    await bus.subscribe("md.kraken.>", cb=collect)
    await barrier(bus, timeout=15)
    registry = CollectorRegistry()
    feed = build_market_feed(feed_settings(tmp_path, synthetic.url), aether_urls, registry)
    await feed.start()
    try:
        await eventually(lambda: feed.readiness()[0])
        assert feed.subscriptions() == {"XBTUSD": frozenset({"book", "trade", "ohlc"})}
        subjects = lambda: {s for s, _ in received}  # noqa: E731
        await eventually(lambda: {"md.kraken.XBTUSD.trade", "md.kraken.XBTUSD.book"} <= subjects())
        books = [m for s, m in received if s == "md.kraken.XBTUSD.book"]
        assert isinstance(books[0].event, BookSnapshot)
        assert books[0].symbol == "XBTUSD"
        assert books[0].event.bids[0].price < books[0].event.asks[0].price
        trades = [m.event for s, m in received if s == "md.kraken.XBTUSD.trade"]
        assert all(isinstance(t, Tick) and t.trade_id is not None for t in trades)
        assert all(m.recv_ns >= m.ts_ns for _, m in received if m.kind == "trade")
        await eventually(lambda: trade_counts(aether_urls.database_url))
        lag = registry.get_sample_value("aether_market_ingest_lag_seconds", {"symbol": "XBTUSD"})
        assert lag is not None
        assert 0 <= lag < 5

        # One pair added through the control subject: only its channel is subscribed.
        mark = len(feed.stream.requests)
        change = {"symbol": "ETHUSD", "ws_symbol": "ETH/USD", "kinds": ["trade"]}
        await bus.publish(SUBSCRIPTIONS_CHANGED, orjson.dumps(change))
        await eventually(lambda: "ETHUSD" in feed.subscriptions())
        assert requests_since(feed, mark) == [("subscribe", "trade", ("ETH/USD",))]
        await eventually(lambda: "md.kraken.ETHUSD.trade" in subjects())

        # One channel dropped from a pair: one unsubscribe, nothing else touched.
        mark = len(feed.stream.requests)
        await feed.apply("XBTUSD", "BTC/USD", frozenset({"book", "trade"}))
        assert requests_since(feed, mark) == [("unsubscribe", "ohlc", ("BTC/USD",))]

        # Removed through the control subject (empty kinds).
        mark = len(feed.stream.requests)
        change = {"symbol": "XBTUSD", "ws_symbol": "BTC/USD", "kinds": []}
        await bus.publish(SUBSCRIPTIONS_CHANGED, orjson.dumps(change))
        await eventually(lambda: "XBTUSD" not in feed.subscriptions())
        assert sorted(requests_since(feed, mark)) == [
            ("unsubscribe", "book", ("BTC/USD",)),
            ("unsubscribe", "trade", ("BTC/USD",)),
        ]
        # The periodic re-read heals to the table (which still says XBTUSD, not ETHUSD).
        await feed.resync()
        assert feed.subscriptions() == {"XBTUSD": frozenset({"book", "trade", "ohlc"})}

        js = bus.jetstream()
        info = await js.stream_info(MARKET_STREAM)
        assert info.config.subjects == ["md.kraken.>"]
        assert info.state.messages > 0
        assert registry.get_sample_value("aether_market_messages_total", {"kind": "trade"})
    finally:
        await feed.stop()
        await bus.close()
    stored, distinct = await trade_counts(aether_urls.database_url)
    assert stored == distinct > 0


async def test_the_same_trades_twice_are_stored_once(
    aether_urls: ServerUrls, tmp_path: Path
) -> None:
    await prepare_database(aether_urls.database_url, {})
    feed = build_market_feed(
        feed_settings(tmp_path, "http://127.0.0.1:9"), aether_urls, CollectorRegistry()
    )
    await feed.apply("XBTUSD", "BTC/USD", frozenset({"trade"}))  # not connected: state only
    ticks = [
        Tick("BTC/USD", Decimal("50000.1"), Decimal("0.5"), 1_700_000_000 * 10**9 + i, i, "buy")
        for i in range(1, 101)
    ]
    for _ in range(2):
        for tick in ticks:
            await feed.handle(tick)
        assert await feed.writer.flush()
    await feed.writer.close()
    assert await trade_counts(aether_urls.database_url) == (100, 100)


async def test_a_pair_without_data_turns_stale_then_fresh(
    aether_urls: ServerUrls, tmp_path: Path
) -> None:
    await prepare_database(aether_urls.database_url, {})
    now = [0]
    settings = feed_settings(tmp_path, "http://127.0.0.1:9", market_stale_seconds=2.0)
    feed = build_market_feed(settings, aether_urls, CollectorRegistry(), clock=lambda: now[0])
    statuses: list[wire.WireMessage] = []

    async def collect(msg: Msg) -> None:
        statuses.append(wire.decode(msg.data))

    bus = await nats.connect(aether_urls.nats_url)
    await bus.subscribe("md.kraken.XBTUSD.status", cb=collect)
    await barrier(bus, timeout=15)
    publisher = asyncio.create_task(feed.bus.run())
    try:
        await eventually(lambda: feed.bus.ready)
        await feed.apply("XBTUSD", "BTC/USD", frozenset({"trade"}))
        now[0] = 3 * 10**9
        await feed.check_freshness()
        tick = Tick("BTC/USD", Decimal("1"), Decimal("1"), now[0], 1, "sell")
        await feed.handle(tick)
        await eventually(lambda: len(statuses) == 2)
    finally:
        publisher.cancel()
        await feed.bus.close()
        await feed.writer.close()
        await bus.close()
    assert [type(s.event).__name__ for s in statuses] == ["MarketDataStale", "MarketDataFresh"]


async def test_a_dropped_kraken_socket_is_a_gap_closed_when_data_returns(
    synthetic: Emulator, aether_urls: ServerUrls, tmp_path: Path
) -> None:
    await prepare_database(aether_urls.database_url, {"XBTUSD": ["book"]})
    registry = CollectorRegistry()
    feed = build_market_feed(feed_settings(tmp_path, synthetic.url), aether_urls, registry)
    await feed.start()
    try:
        await eventually(lambda: feed.readiness()[0])
        answer = synthetic.http.post("/emulator/faults", json={"ws_drop": True})
        assert answer.status_code == 200, answer.text

        async def closed_gap() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(aether_urls.database_url)
            try:
                return await conn.fetch(
                    "SELECT kind, reason FROM market_gaps WHERE source = 'ingest' "
                    "AND end_at IS NOT NULL AND end_at >= start"
                )
            finally:
                await conn.close()

        rows = await eventually(closed_gap)
        assert [(r["kind"], r["reason"]) for r in rows] == [("book", "websocket: connection lost")]
        assert feed.stream.connections >= 2
        assert registry.get_sample_value("aether_market_gaps_total", {"reason": "connection lost"})
    finally:
        await feed.stop()
