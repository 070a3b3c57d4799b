"""The ingest's database writer: trades, candles and gaps in batches, through outages.

Rules a caller must know:

* ``add_*`` never blocks and never fails: rows wait in memory until a flush writes them
  (every ``flush_seconds``, sooner when ``batch_rows`` trades are waiting) on the writer's
  own asyncpg connection. Rows leave the buffer only once their transaction committed, and
  the store is idempotent, so a retry after a lost connection writes no duplicate.
* While the database is unreachable at most ``capacity`` trades are held. Beyond that the
  oldest are dropped, counted, and the dropped span of each pair becomes a gap (source
  ``ingest``, kind ``trade``, reason naming the outage) written once the database is back.
  Candles are held one row per interval and source (the latest wins), gaps one per identity.
* ``ready`` and ``detail`` say whether the last attempt to write succeeded and why not.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable

import asyncpg
import structlog

from aether.marketdata import store
from aether.marketdata.feed.metrics import FeedMetrics
from aether.marketdata.records import INGEST_SOURCE, CandleRecord, GapRecord, TradeRecord
from aether.ops.retrying import RetryPolicy

log = structlog.get_logger("aether.marketdata.writer")

#: Errors that fail a write attempt: unreachable, restarting (57P03) or refusing. The rows
#: stay buffered and the attempt is retried; readiness carries the error meanwhile.
_UNAVAILABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


class _FlushFailed(Exception):
    """A flush could not reach the database; its rows stay buffered for the next one."""


CandleKey = tuple[str, int, str, int]
GapKey = tuple[str, int, str, str]


def plain_postgres_url(url: str) -> str:
    """asyncpg wants ``postgresql://``; accept SQLAlchemy's ``postgresql+asyncpg://`` too."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class IngestWriter:
    """Buffers market rows and writes them to PostgreSQL in batches."""

    def __init__(
        self,
        database_url: str,
        metrics: FeedMetrics,
        *,
        capacity: int,
        flush_seconds: float = 0.25,
        batch_rows: int = 5000,
        connect_timeout: float = 3.0,
        retry_seconds: float = 0.5,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.url = plain_postgres_url(database_url)
        self.metrics = metrics
        self.capacity = capacity
        self.flush_seconds = flush_seconds
        self.batch_rows = batch_rows
        self.connect_timeout = connect_timeout
        self.retry_seconds = retry_seconds
        self.clock = clock
        self.trades: deque[TradeRecord] = deque()
        self.candles: dict[CandleKey, CandleRecord] = {}
        self.gaps: dict[GapKey, GapRecord] = {}
        self.ready = False
        self.detail = "not connected yet"
        self.dropped = 0
        self._dropping: dict[str, list[int]] = {}  # symbol -> [first, last] dropped ts
        self._outage_since: int | None = None
        self._conn: asyncpg.Connection | None = None
        self._wake = asyncio.Event()

    # --- buffering ------------------------------------------------------------------------
    def buffered(self) -> int:
        return len(self.trades) + len(self.candles) + len(self.gaps)

    def add_trade(self, trade: TradeRecord) -> None:
        """Queue one trade; when full, the oldest is dropped and its span kept for a gap."""
        if len(self.trades) >= self.capacity:
            old = self.trades.popleft()
            span = self._dropping.setdefault(old.symbol, [old.ts_ns, old.ts_ns])
            span[0], span[1] = min(span[0], old.ts_ns), max(span[1], old.ts_ns)
            self.dropped += 1
            self.metrics.dropped_rows.labels("market_trades").inc()
        self.trades.append(trade)
        if len(self.trades) >= self.batch_rows:
            self._wake.set()

    def add_candle(self, candle: CandleRecord) -> None:
        """Queue a candle; a newer version of the same interval and source replaces it."""
        key = (candle.bar.symbol, candle.bar.interval, candle.source, candle.bar.start)
        self.candles.pop(key, None)  # re-insert at the end: oldest stay first
        self.candles[key] = candle
        if len(self.candles) > self.capacity:
            del self.candles[next(iter(self.candles))]
            self.metrics.dropped_rows.labels("candles").inc()

    def add_gap(self, gap: GapRecord) -> None:
        """Queue a gap; the same gap again (say, now with its end) replaces the queued one."""
        key = (gap.symbol, gap.start_ns, gap.kind, gap.source)
        queued = self.gaps.get(key)
        if queued is None or queued.end_ns is None:
            self.gaps[key] = gap

    # --- writing --------------------------------------------------------------------------
    async def run(self) -> None:
        """Flush forever (cancel to stop; ``close`` makes a last attempt)."""
        # After a failed flush (rows kept), the platform's retry policy sets the pause.
        await RetryPolicy.fixed(self.retry_seconds).run(self._flush_until_one_fails, _FlushFailed)

    async def _flush_until_one_fails(self) -> None:
        while True:
            # Woken early when a batch is full, else every flush_seconds.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.flush_seconds):
                    await self._wake.wait()
            self._wake.clear()
            if not await self.flush():
                raise _FlushFailed

    async def flush(self) -> bool:
        """Write what is buffered; False (rows kept) when the database is unreachable."""
        try:
            conn = await self._connection()
            self._take_dropped()
            while self.gaps:
                gaps = list(self.gaps.values())
                await store.record_gaps(conn, gaps)
                for gap in gaps:
                    key = (gap.symbol, gap.start_ns, gap.kind, gap.source)
                    if self.gaps.get(key) is gap:
                        del self.gaps[key]
            while self.trades:
                batch = list(itertools.islice(self.trades, self.batch_rows))
                added = await store.copy_trades(conn, batch)
                self.metrics.written_rows.labels("market_trades").inc(added)
                # Only what was written leaves; add_trade may have dropped some meanwhile.
                written = {id(trade) for trade in batch}
                while self.trades and id(self.trades[0]) in written:
                    self.trades.popleft()
            if self.candles:
                candles = dict(self.candles)
                added = await store.upsert_candles(conn, list(candles.values()))
                self.metrics.written_rows.labels("candles").inc(added)
                for candle_key, candle in candles.items():
                    if self.candles.get(candle_key) is candle:
                        del self.candles[candle_key]
        except _UNAVAILABLE as exc:
            await self._lost(f"{type(exc).__name__}: {exc}")
            return False
        finally:
            self.metrics.buffered_rows.set(self.buffered())
        self._outage_since = None
        self.ready = True
        self.detail = "writing"
        return True

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is not None and not self._conn.is_closed():
            return self._conn
        self._conn = await asyncpg.connect(self.url, timeout=self.connect_timeout)
        log.info("ingest database connected")
        return self._conn

    async def _lost(self, reason: str) -> None:
        if self._outage_since is None:
            self._outage_since = self.clock()
            log.warning("ingest database unreachable; buffering", error=reason[:200])
        self.ready = False
        self.detail = f"database unreachable since {self._outage_since} ({reason[:160]})"
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    def _take_dropped(self) -> None:
        """Turn the spans of dropped trades into gaps (called once the database answers)."""
        for symbol, (first, last) in self._dropping.items():
            reason = f"ingest buffer full during a database outage; {self.dropped} rows dropped"
            gap = GapRecord(symbol, "trade", first, last, reason, INGEST_SOURCE)
            self.add_gap(gap)
            self.metrics.gaps.labels("buffer overflow").inc()
            log.warning("ingest dropped trades", symbol=symbol, start_ns=first, end_ns=last)
        self._dropping.clear()

    async def close(self, timeout: float = 5.0) -> None:
        """One last flush (bounded by ``timeout``), then close the connection."""
        try:
            async with asyncio.timeout(timeout):
                await self.flush()
        except TimeoutError:
            log.warning("ingest final flush timed out", buffered=self.buffered())
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()
