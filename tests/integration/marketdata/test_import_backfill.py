"""Trade backfill against a real emulator: pages, candles from stored trades, gaps, joining
onto a bulk CSV, resuming, and re-runs that add nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from aether.domain.bars import Bar
from aether.marketdata.candle_builder import candles_from_trades
from aether.marketdata.imports.backfill import backfill, backfill_pair
from aether.marketdata.imports.errors import ImportInputError
from aether.marketdata.imports.kraken_csv import import_kraken_csv
from aether.marketdata.records import CandleRecord, TradeRecord, datetime_to_ns
from aether.venues.kraken.rate_limit import Tier
from aether.venues.kraken.rest import KrakenRest
from aether.venues.kraken.trades_page import parse_trades_page
from tests.integration.emulator.conftest import Emulator

NS = 1_000_000_000
KEYS = {"XBTUSD": "XXBTZUSD", "ETHUSD": "XETHZUSD"}


@pytest.fixture
async def pool(aether_db_url: str) -> AsyncIterator[asyncpg.Pool]:
    connections = await asyncpg.create_pool(aether_db_url, min_size=1, max_size=2)
    try:
        yield connections
    finally:
        await connections.close()


@pytest.fixture
async def rest(emulator: Emulator) -> AsyncIterator[KrakenRest]:
    # Pro tier: 20 calls in a burst keep these tests from waiting on the counter.
    async with KrakenRest(emulator.url, tier=Tier.PRO) as client:
        yield client


async def _window(emulator: Emulator) -> tuple[int, int]:
    """A range of whole seconds the emulator has printed trades in, ending in the past."""
    since = int(time.time()) - 1
    await asyncio.sleep(3.2)
    return since, int(time.time())


def _venue_trades(emulator: Emulator, pair: str, since: int, until: int) -> list[TradeRecord]:
    result = emulator.public("Trades", pair=pair, since=since * NS - 1, count=1000)["result"]
    page = parse_trades_page(result, pair, KEYS[pair])
    trades = [TradeRecord.of_tick(t, "rest") for t in page.trades]
    return [t for t in trades if t.ts_ns < until * NS]


async def _stored_candles(conn: asyncpg.Connection, pair: str) -> list[CandleRecord]:
    rows = await conn.fetch(
        "SELECT * FROM candles WHERE symbol = $1 AND source = 'trades' ORDER BY start", pair
    )
    return [
        CandleRecord(
            Bar(
                pair,
                datetime_to_ns(r["start"]) // NS,
                r["interval_s"],
                r["open"],
                r["high"],
                r["low"],
                r["close"],
                r["volume"],
                r["trades"],
            ),
            "trades",
        )
        for r in rows
    ]


async def _counts(conn: asyncpg.Connection) -> tuple[int, int, int]:
    return (
        await conn.fetchval("SELECT count(*) FROM market_trades"),
        await conn.fetchval("SELECT count(*) FROM candles"),
        await conn.fetchval("SELECT count(*) FROM market_gaps"),
    )


async def test_two_pairs_page_through_trades_and_build_their_candles(
    emulator: Emulator, pool: asyncpg.Pool, rest: KrakenRest
) -> None:
    since, until = await _window(emulator)
    reports = await backfill(
        pool, rest, ["XBTUSD", "ETHUSD"], interval_s=1, since_s=since, until_s=until,
        page_size=20, parallel=2,
    )  # fmt: skip
    async with pool.acquire() as conn:
        for report, pair in zip(reports, ["XBTUSD", "ETHUSD"], strict=True):
            venue = _venue_trades(emulator, pair, since, until)
            assert len(venue) > 40  # more than two pages of 20
            assert report.rows_read == len(venue)
            assert report.added["market_trades"] == len(venue)
            stored = await conn.fetchval(
                "SELECT count(*) FROM market_trades WHERE symbol = $1 AND source = 'rest'", pair
            )
            assert stored == len(venue)
            # Candles are exactly those built from the venue's trades, interval by interval.
            assert await _stored_candles(conn, pair) == candles_from_trades(venue, 1)
            assert report.added["candles"] == len(candles_from_trades(venue, 1))
            assert (report.first_s, report.end_s) == (since, until)
            cursor = await conn.fetchval(
                "SELECT cursor FROM import_progress WHERE job = $1", f"backfill:{pair}"
            )
            assert f'"since_s": {since}' in cursor
        before = await _counts(conn)

        # Again over the same range: continues from the cursor, adds nothing.
        again = await backfill(
            pool, rest, ["XBTUSD", "ETHUSD"], interval_s=1, since_s=since, until_s=until,
            page_size=20,
        )  # fmt: skip
        assert all(r.resumed_from_s is not None for r in again)
        assert all(r.rows_added == 0 for r in again)
        assert await _counts(conn) == before
        # And from scratch (cursors gone): every page again, still nothing added.
        await conn.execute("DELETE FROM import_progress")
        fresh = await backfill(
            pool, rest, ["XBTUSD", "ETHUSD"], interval_s=1, since_s=since, until_s=until,
            page_size=20,
        )  # fmt: skip
        assert [r.rows_read for r in fresh] == [r.rows_read for r in reports]
        assert all(r.rows_added == 0 for r in fresh)
        assert await _counts(conn) == before


async def test_it_joins_onto_a_bulk_csv_and_records_quiet_intervals_as_gaps(
    emulator: Emulator, pool: asyncpg.Pool, rest: KrakenRest, tmp_path: Path
) -> None:
    _, until = await _window(emulator)
    first = _venue_trades(emulator, "XBTUSD", 1, until)[0]
    assert first.trade_id == 1  # the tape still holds the market's very first trade
    # One-second bulk candles ending 3 s before the market's first trade: a quiet stretch.
    csv_end = first.ts_ns // NS - 3
    path = tmp_path / "XBTUSD.csv"
    path.write_text("".join(f"{csv_end - 4 + i},100.0,101.0,99.0,100.5,1.5,3\n" for i in range(4)))
    async with pool.acquire() as conn:
        await import_kraken_csv(conn, path, "XBTUSD", 1)
        report = await backfill_pair(
            conn, rest, "XBTUSD", interval_s=1, until_s=until, page_size=50
        )
        gap = await conn.fetchrow(
            "SELECT * FROM market_gaps WHERE source = 'import:backfill' ORDER BY start LIMIT 1"
        )
    # The backfill started where the bulk candles end, and reported the quiet seconds.
    assert report.first_s == csv_end
    assert report.rows_read == len(_venue_trades(emulator, "XBTUSD", csv_end, until))
    assert report.gaps_found >= 1
    assert int(gap["start"].timestamp()) == csv_end
    assert int(gap["end_at"].timestamp()) == first.ts_ns // NS
    assert gap["kind"] == "candle"
    assert "no trades" in gap["reason"]


async def test_without_since_or_bulk_data_it_asks_for_since(
    pool: asyncpg.Pool, rest: KrakenRest
) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(ImportInputError, match="pass --since"):
            await backfill_pair(conn, rest, "ETHUSD", interval_s=60)
