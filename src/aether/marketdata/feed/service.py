"""The market-data ingest: Kraken's WebSocket v2 -> NATS (``md.kraken.<SYMBOL>.<kind>``) and
PostgreSQL (trades, candles, gaps), with per-pair freshness.

Rules a caller must know:

* ``start`` never fails because NATS or PostgreSQL is down: each side retries on its own
  and ``readiness`` says what is missing. The Kraken WebSocket stays up through outages of
  either; ``stop`` makes one last bounded flush.
* The pairs followed are the ``market_subscriptions`` rows (joined to ``instruments`` for
  the v2 name), re-read every ``resync_seconds`` and changed at once by a message on
  ``SUBSCRIPTIONS_CHANGED``; only the difference per pair is applied to the stream.
* Every normalised event is published (core NATS publish into the JetStream-captured
  subject) as ``marketdata.wire`` JSON. Nothing is published while the bus is down: each
  outage becomes a gap per followed pair and kind (start and end) once it ends.
* Trades are stored with source ``ws``; candles received on the ``ohlc`` channel as
  ``kraken-ws``, candles built from trades as ``trades`` (complete intervals only),
  and the two are reconciled (``aether_market_candle_mismatches_total``).
* WebSocket reconnects and checksum resyncs are gaps (source ``ingest``) from their
  detection to the next data of that pair and channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

import asyncpg
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg

from aether.bus.publisher import BusPublisher
from aether.bus.streams import ensure_market_stream
from aether.bus.subjects import SUBSCRIPTIONS_CHANGED, market_subject
from aether.domain.bars import Bar
from aether.domain.events import BookSnapshot, MarketDataStale, MarketDataStatus, Quote, Tick
from aether.marketdata import wire
from aether.marketdata.feed.candles import LiveCandles
from aether.marketdata.feed.config import CANDLE_MINUTES, MarketFeedConfig
from aether.marketdata.feed.gaps import OpenGaps
from aether.marketdata.feed.metrics import FeedMetrics
from aether.marketdata.feed.subscriptions import Followed, parse_change, read_subscriptions
from aether.marketdata.feed.writer import IngestWriter
from aether.marketdata.freshness import FreshnessTracker
from aether.marketdata.records import INGEST_SOURCE, CandleRecord, GapRecord, TradeRecord
from aether.ops.tasks import stop_task
from aether.venues.kraken.ws import KrakenMarketStream, StreamEvent
from aether.venues.kraken.ws_receive import StreamGap, StreamRecovered, StreamStale

log = structlog.get_logger("aether.marketdata.feed")

NS = 1_000_000_000


class MarketFeed:
    """The ingest service the API process runs (``start`` it, ``stop`` it).

    It is given its parts: the Kraken ``stream`` (built with no pairs: the feed adds them),
    the ``writer`` and the ``bus`` publisher, with the ``metrics`` the writer also counts
    on. It installs its own connect and outage handlers on the bus.
    ``aether.marketdata.assembly.build_market_feed`` builds all of them from ``Settings``.
    """

    def __init__(
        self,
        config: MarketFeedConfig,
        *,
        stream: KrakenMarketStream,
        writer: IngestWriter,
        bus: BusPublisher,
        metrics: FeedMetrics,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config
        self.clock = clock
        self.metrics = metrics
        self.stream = stream
        self.writer = writer
        self.bus = bus
        bus.on_connect = self._bus_connected
        bus.on_outage = self._bus_outage
        self.freshness = FreshnessTracker(config.stale_seconds)
        self.candles = LiveCandles(CANDLE_MINUTES * 60)
        self.upstream_stale = False
        self.subscriptions_loaded = False
        self._followed: dict[str, Followed] = {}
        self._by_ws: dict[str, str] = {}  # v2 name -> altname
        self._subjects: dict[tuple[str, str], str] = {}
        self.gaps = OpenGaps()
        self._control_client: Client | None = None
        self._changing = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every part in the background; returns at once (see ``readiness``)."""
        if self._tasks:
            return
        parts: dict[str, Coroutine[Any, Any, None]] = {
            "bus": self.bus.run(),
            "writer": self.writer.run(),
            "stream": self._consume(),
            "subscriptions": self._resync_forever(),
            "freshness": self._watch_freshness(),
        }
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(c, name=f"ingest-{n}") for n, c in parts.items()]

    async def stop(self) -> None:
        """Stop every part, write what is buffered (bounded), close the connections."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            await stop_task(task)
        await self.stream.close()
        await self.writer.close()
        await self.bus.close()

    def readiness(self) -> tuple[bool, str]:
        """(ready, what each part is doing): upstream, bus, database, buffered rows."""
        upstream = "connected" if self.stream.connected else "disconnected"
        if self.stream.connected and self.upstream_stale:
            upstream = "connected but silent"
        pairs = "loaded" if self.subscriptions_loaded else "not loaded yet"
        ok = (
            self.stream.connected
            and not self.upstream_stale
            and self.bus.ready
            and self.writer.ready
            and self.subscriptions_loaded
        )
        detail = (
            f"upstream {upstream} ({len(self._followed)} pairs, subscriptions {pairs}); "
            f"bus {self.bus.detail}; database {self.writer.detail}; "
            f"{self.writer.buffered()} rows buffered"
        )
        return ok, detail

    def subscriptions(self) -> dict[str, frozenset[str]]:
        """Altname -> the channels followed."""
        return {symbol: followed.kinds for symbol, followed in self._followed.items()}

    # --- subscriptions --------------------------------------------------------------------
    async def apply(self, symbol: str, ws_symbol: str, kinds: frozenset[str]) -> None:
        """Follow one pair on ``kinds`` (empty: stop following it); only what changed is
        sent to Kraken."""
        async with self._changing:
            await self._apply_one(symbol, ws_symbol, kinds)

    async def _apply_one(self, symbol: str, ws_symbol: str, kinds: frozenset[str]) -> None:
        current = self._followed.get(symbol)
        if current is not None and current.kinds == kinds and current.ws_symbol == ws_symbol:
            return
        if current is not None and (not kinds or current.ws_symbol != ws_symbol):
            await self.stream.remove(current.ws_symbol)
            self._forget(symbol, current.ws_symbol)
        if not kinds:
            log.info("market pair unfollowed", symbol=symbol)
            return
        self._followed[symbol] = Followed(symbol, ws_symbol, kinds)
        self._by_ws[ws_symbol] = symbol
        self.freshness.follow(symbol, self.clock())
        await self.stream.add(ws_symbol, kinds)
        log.info("market pair followed", symbol=symbol, kinds=sorted(kinds))

    def _forget(self, symbol: str, ws_symbol: str) -> None:
        self._followed.pop(symbol, None)
        self._by_ws.pop(ws_symbol, None)
        self.freshness.forget(symbol)
        self.candles.forget(symbol)
        for closed in self.gaps.forget(symbol, self.clock()):
            self.writer.add_gap(closed)
        for gauge in (self.metrics.data_age, self.metrics.ingest_lag, self.metrics.stale):
            with contextlib.suppress(KeyError):
                gauge.remove(symbol)

    async def resync(self) -> None:
        """Re-read the subscriptions table and apply the difference; raises when the
        database cannot be read."""
        conn = await asyncpg.connect(self.writer.url, timeout=3.0)
        try:
            wanted = await read_subscriptions(conn)
        finally:
            conn.terminate()
        async with self._changing:
            for symbol in [s for s in self._followed if s not in wanted]:
                await self._apply_one(symbol, self._followed[symbol].ws_symbol, frozenset())
            for sub in wanted.values():
                await self._apply_one(sub.symbol, sub.ws_symbol, sub.kinds)
        self.subscriptions_loaded = True

    async def _resync_forever(self) -> None:
        while True:
            try:
                await self.resync()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning(
                    "subscriptions not readable", error=f"{type(exc).__name__}: {exc}"[:200]
                )
                await asyncio.sleep(
                    self.config.retry_seconds if not self.subscriptions_loaded else 5.0
                )
                continue
            await asyncio.sleep(self.config.resync_seconds)

    async def _on_control(self, msg: Msg) -> None:
        try:
            change = parse_change(msg.data)
        except ValueError as exc:
            log.warning("subscription change ignored", error=str(exc)[:200])
            return
        await self.apply(change.symbol, change.ws_symbol, change.kinds)

    # --- bus ------------------------------------------------------------------------------
    async def _bus_connected(self, client: Client) -> None:
        await ensure_market_stream(
            client.jetstream(),
            max_age_seconds=self.config.stream_max_age_seconds,
            max_bytes=self.config.stream_max_bytes,
        )
        if self._control_client is not client:  # nats-py restores it after a reconnect
            await client.subscribe(SUBSCRIPTIONS_CHANGED, cb=self._on_control)
            self._control_client = client

    def _bus_outage(self, start_ns: int, end_ns: int, reason: str) -> None:
        """Nothing was published between ``start_ns`` and ``end_ns``: a gap per channel."""
        why = f"bus unreachable: {reason}"
        for followed in self._followed.values():
            for kind in sorted(followed.kinds):
                gap = GapRecord(followed.symbol, kind, start_ns, end_ns, why, INGEST_SOURCE)
                self.writer.add_gap(gap)
                self.metrics.gaps.labels("bus outage").inc()
        log.warning("bus outage recorded", start_ns=start_ns, end_ns=end_ns, reason=reason)

    def _subject(self, symbol: str, kind: str) -> str:
        subject = self._subjects.get((symbol, kind))
        if subject is None:
            subject = self._subjects[(symbol, kind)] = market_subject(symbol, kind)
        return subject

    async def _publish(self, symbol: str, kind: str, payload: bytes) -> None:
        if await self.bus.publish(self._subject(symbol, kind), payload):
            self.metrics.published.inc()
        else:
            self.metrics.unpublished.inc()

    # --- events ---------------------------------------------------------------------------
    async def _consume(self) -> None:
        async for event in self.stream.events():
            try:
                await self.handle(event)
            except (ValueError, KeyError, TypeError) as exc:
                # One malformed event must not stop the ingest; it is visible in the log.
                log.error("market event not handled", error=f"{type(exc).__name__}: {exc}"[:300])

    async def handle(self, event: StreamEvent) -> None:
        """Normalise, publish and queue for storage one event of the stream."""
        now = self.clock()
        if isinstance(event, StreamGap):
            await self._stream_gap(event)
            return
        if isinstance(event, StreamStale):
            self.upstream_stale = True
            log.warning("kraken feed silent", since_ns=event.since_ns)
            return
        if isinstance(event, StreamRecovered):
            self.upstream_stale = False
            return
        symbol = self._by_ws.get(event.symbol)
        if symbol is None:
            return  # a late message of a pair no longer followed
        if isinstance(event, BookSnapshot):
            kind, payload = "book", wire.encode_book(symbol, event, now)
            self.metrics.ingest_lag.labels(symbol).set(max(0, now - event.ts_ns) / NS)
        elif isinstance(event, Tick):
            kind, payload = "trade", wire.encode_trade(symbol, event, now)
            self.metrics.ingest_lag.labels(symbol).set(max(0, now - event.ts_ns) / NS)
            self._store_trade(symbol, event)
        elif isinstance(event, Quote):
            kind, payload = "ticker", wire.encode_ticker(symbol, event, now)
        else:
            kind, payload = "ohlc", wire.encode_ohlc(symbol, event, now)
            self._store_candle(symbol, event)
        self.metrics.messages.labels(kind).inc()
        await self._publish(symbol, kind, payload)
        await self._close_gap(symbol, kind, now)
        fresh = self.freshness.seen(symbol, now)
        if fresh is not None:
            await self._status(fresh, "data flows again")

    def _store_trade(self, symbol: str, tick: Tick) -> None:
        try:
            trade = TradeRecord.of_tick(tick, "ws", symbol)
        except ValueError:
            log.warning("trade without id or side not stored", symbol=symbol)
            return
        self.writer.add_trade(trade)
        followed = self._followed.get(symbol)
        check = followed is not None and "ohlc" in followed.kinds
        closed = self.candles.trade(trade, check=check)
        for candle in closed:
            self.writer.add_candle(candle)
        if closed:
            self._count_mismatches()

    def _store_candle(self, symbol: str, bar: Bar) -> None:
        # Kraken's WS candle, under the altname (the bar carries the v2 name).
        candle = CandleRecord(replace(bar, symbol=symbol), "kraken-ws")
        self.writer.add_candle(candle)
        self.candles.received(candle)
        self._count_mismatches()

    def _count_mismatches(self) -> None:
        for mismatch in self.candles.take_mismatches():
            self.metrics.candle_mismatches.labels(mismatch.field).inc()
            log.warning(
                "candle mismatch",
                symbol=mismatch.symbol,
                start_s=mismatch.start_s,
                field=mismatch.field,
                received=str(mismatch.received),
                built=str(mismatch.built),
            )

    # --- gaps and freshness ---------------------------------------------------------------
    async def _stream_gap(self, event: StreamGap) -> None:
        symbol = self._by_ws.get(event.symbol)
        if symbol is None:
            return
        if event.reason == "checksum mismatch":
            self.metrics.checksum_failures.inc()
        if event.channel == "trade":
            self.candles.reset(symbol)
        gap = self.gaps.open(symbol, event.channel, event.ts_ns, f"websocket: {event.reason}")
        if gap is None:
            return  # the open gap already covers it
        self.writer.add_gap(gap)
        self.metrics.gaps.labels(event.reason).inc()
        await self._announce_gap(gap, event.ts_ns)

    async def _close_gap(self, symbol: str, kind: str, now: int) -> None:
        closed = self.gaps.close(symbol, kind, now)
        if closed is None:
            return
        self.writer.add_gap(closed)
        await self._announce_gap(closed, now)

    async def _announce_gap(self, gap: GapRecord, now: int) -> None:
        notice = wire.MarketGapNotice(gap.symbol, gap.kind, gap.reason, gap.start_ns, gap.end_ns)
        await self._publish(gap.symbol, "status", wire.encode_gap(notice, now))

    async def _status(self, event: MarketDataStatus, reason: str) -> None:
        self.metrics.stale.labels(event.symbol).set(1 if isinstance(event, MarketDataStale) else 0)
        log.info("market data " + ("stale" if isinstance(event, MarketDataStale) else "fresh"),
                 symbol=event.symbol)  # fmt: skip
        await self._publish(event.symbol, "status", wire.encode_status(event, reason))

    async def check_freshness(self) -> None:
        """Publish stale transitions and refresh the age gauges (run about once a second)."""
        now = self.clock()
        for stale in self.freshness.check(now):
            seconds = self.config.stale_seconds
            await self._status(stale, f"no data for {seconds:g} s")
        for symbol in self.freshness.symbols():
            age = self.freshness.age_seconds(symbol, now)
            if age is not None:
                self.metrics.data_age.labels(symbol).set(age)

    async def _watch_freshness(self) -> None:
        period = min(1.0, self.config.stale_seconds / 4)
        while True:
            await asyncio.sleep(period)
            await self.check_freshness()
