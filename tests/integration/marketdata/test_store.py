"""Batched COPY persistence is idempotent and reports what it added."""

from __future__ import annotations

from decimal import Decimal

import asyncpg
import pytest

from aether.domain.bars import Bar
from aether.marketdata import store
from aether.marketdata.records import (
    CandleRecord,
    CandleSource,
    GapRecord,
    ReferencePrice,
    TradeRecord,
)

NS = 1_000_000_000


@pytest.fixture
def conn(aether_pg: asyncpg.Connection) -> asyncpg.Connection:
    return aether_pg


def _trade(trade_id: int, price: str = "50000.1") -> TradeRecord:
    return TradeRecord(
        "XBTUSD",
        trade_id,
        1_700_000_000 * NS + trade_id * 1000,
        Decimal(price),
        Decimal("0.01"),
        "buy",
        "ws",
    )


async def test_trades_twice_add_nothing_the_second_time(conn: asyncpg.Connection) -> None:
    batch = [_trade(i) for i in range(1, 501)]
    assert await store.copy_trades(conn, batch) == 500
    assert await store.copy_trades(conn, [*batch, _trade(501)]) == 1
    # The same print twice in one batch is stored once.
    assert await store.copy_trades(conn, [_trade(502), _trade(502)]) == 1
    assert await conn.fetchval("SELECT count(*) FROM market_trades") == 502
    price = await conn.fetchval("SELECT price FROM market_trades WHERE trade_id = 7")
    assert price == Decimal("50000.1")


def _candle(start: int, close: str, source: CandleSource = "kraken-ws") -> CandleRecord:
    one, two, three = Decimal("1"), Decimal("2"), Decimal("3")
    bar = Bar("XBTUSD", start, 60, one, three, one, Decimal(close), two, 4)
    return CandleRecord(bar, source)


async def test_candles_update_only_when_values_change(conn: asyncpg.Connection) -> None:
    assert await store.upsert_candles(conn, [_candle(60, "2"), _candle(120, "2")]) == 2
    assert await store.upsert_candles(conn, [_candle(60, "2")]) == 0
    # A growing candle: the later version of the same interval wins, within one batch too.
    assert await store.upsert_candles(conn, [_candle(60, "2.5"), _candle(60, "2.7")]) == 1
    close = await conn.fetchval("SELECT close FROM candles WHERE start = to_timestamp(60)")
    assert close == Decimal("2.7")
    # Another source keeps its own row of the same interval.
    assert await store.upsert_candles(conn, [_candle(60, "2.7", "trades")]) == 1
    assert await conn.fetchval("SELECT count(*) FROM candles") == 3


async def test_gaps_are_recorded_once_and_closed_later(conn: asyncpg.Connection) -> None:
    open_gap = GapRecord("XBTUSD", "trade", 5 * NS, None, "database unavailable", "ingest")
    assert await store.record_gaps(conn, [open_gap]) == 1
    assert await store.record_gaps(conn, [open_gap]) == 0
    closed = GapRecord("XBTUSD", "trade", 5 * NS, 9 * NS, "database unavailable", "ingest")
    assert await store.record_gaps(conn, [closed]) == 1
    assert await store.record_gaps(conn, [closed]) == 0
    row = await conn.fetchrow("SELECT count(*) AS n, max(end_at) AS end_at FROM market_gaps")
    assert row["n"] == 1
    assert row["end_at"].timestamp() == 9


async def test_reference_prices_are_idempotent(conn: asyncpg.Connection) -> None:
    points = [
        ReferencePrice("coingecko", "bitcoin", i * NS, Decimal("100") + i, None, Decimal("5"))
        for i in range(10)
    ]
    assert await store.upsert_reference_prices(conn, points) == 10
    assert await store.upsert_reference_prices(conn, points) == 0
