"""CoinGecko import against a local server in CoinGecko's documented shape."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import asyncpg
import pytest

from aether.marketdata.imports.coingecko import import_coingecko
from aether.marketdata.imports.coingecko_client import CoinGeckoClient
from aether.marketdata.imports.errors import ImportSourceError
from tests.support.coingecko_server import CoinGeckoServer, price_at, serve_coingecko

DAY = 86_400
SINCE = 1_767_225_600  # 2026-01-01T00:00:00Z
UNTIL = SINCE + 100 * DAY  # two requests: 89 days, then 11
MISSING = {SINCE // 3600 + 50, SINCE // 3600 + 51, SINCE // 3600 + 2000}  # two holes


@pytest.fixture
def server() -> Iterator[CoinGeckoServer]:
    with serve_coingecko(missing_hours=set(MISSING)) as running:
        yield running


@pytest.fixture
def conn(aether_pg: asyncpg.Connection) -> asyncpg.Connection:
    return aether_pg


class _Sleeps:
    """Records the waits the client asks for instead of sleeping through them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _client(server: CoinGeckoServer, sleeps: _Sleeps | None = None) -> CoinGeckoClient:
    return CoinGeckoClient(server.url, "demo-key-123", sleep=sleeps or _Sleeps())


async def _counts(conn: asyncpg.Connection) -> tuple[int, int]:
    prices = await conn.fetchval("SELECT count(*) FROM reference_prices")
    gaps = await conn.fetchval("SELECT count(*) FROM market_gaps")
    return prices, gaps


async def test_hourly_points_in_windows_with_gaps_and_a_rerun_adds_nothing(
    server: CoinGeckoServer, conn: asyncpg.Connection
) -> None:
    async with _client(server) as client:
        report = await import_coingecko(conn, client, "bitcoin", SINCE, UNTIL)
    hours = 100 * 24 - len(MISSING)
    assert report.added == {"reference_prices": hours, "market_gaps": 2}
    assert (report.gaps_found, report.gaps_recorded) == (2, 2)
    assert await _counts(conn) == (hours, 2)
    assert len(server.requests) == 2
    for request in server.requests:
        assert request["vs_currency"] == "usd"
        assert request["api_key"] == "demo-key-123"
        assert int(str(request["to"])) - int(str(request["from"])) <= 90 * DAY
    row = await conn.fetchrow("SELECT * FROM reference_prices ORDER BY ts LIMIT 1")
    assert row["price_usd"] == price_at("bitcoin", SINCE // 3600)
    assert row["market_cap_usd"] == price_at("bitcoin", SINCE // 3600) * Decimal("19500000.5")
    assert int(row["ts"].timestamp()) == SINCE + 37
    gap = await conn.fetchrow("SELECT * FROM market_gaps ORDER BY start LIMIT 1")
    assert (gap["symbol"], gap["kind"], gap["source"]) == (
        "bitcoin",
        "reference",
        "import:coingecko",
    )
    assert "3.0 h" in gap["reason"]

    async with _client(server) as client:
        again = await import_coingecko(conn, client, "bitcoin", SINCE, UNTIL)
    assert again.resumed_from_s == UNTIL
    assert again.rows_added == 0
    assert await _counts(conn) == (hours, 2)
    await conn.execute("DELETE FROM import_progress")
    async with _client(server) as client:
        fresh = await import_coingecko(conn, client, "bitcoin", SINCE, UNTIL)
    assert fresh.rows_read == report.rows_read
    assert fresh.rows_added == 0
    assert fresh.gaps_found == 2
    assert await _counts(conn) == (hours, 2)


class _Interrupted(Exception):
    pass


async def test_an_interrupted_import_continues_with_the_next_window(
    server: CoinGeckoServer, conn: asyncpg.Connection
) -> None:
    def stop_after_the_first_window(done: int, total: int) -> None:
        if done > 0:
            raise _Interrupted

    async with _client(server) as client:
        with pytest.raises(_Interrupted):
            await import_coingecko(
                conn, client, "ethereum", SINCE, UNTIL, on_progress=stop_after_the_first_window
            )
        first_window = await conn.fetchval("SELECT count(*) FROM reference_prices")
        assert 0 < first_window < 100 * 24 - len(MISSING)
        report = await import_coingecko(conn, client, "ethereum", SINCE, UNTIL)
    assert report.resumed_from_s == SINCE + 89 * DAY
    assert len(server.requests) == 2  # the first window was not fetched again
    assert await conn.fetchval("SELECT count(*) FROM reference_prices") == 100 * 24 - len(MISSING)


async def test_rate_limits_are_waited_out_as_retry_after_says(conn: asyncpg.Connection) -> None:
    sleeps = _Sleeps()
    with serve_coingecko(rate_limit_first=2) as server:
        async with _client(server, sleeps) as client:
            report = await import_coingecko(conn, client, "bitcoin", SINCE, SINCE + 2 * DAY)
    assert sleeps.waits == [1.0, 1.0]
    assert report.added["reference_prices"] == 48
    assert "waited 2 s on CoinGecko rate limits" in report.notes


async def test_an_unknown_coin_is_a_clear_error(
    server: CoinGeckoServer, conn: asyncpg.Connection
) -> None:
    async with _client(server) as client:
        with pytest.raises(
            ImportSourceError, match=r"coins/dogecoin-x/market_chart/range.*HTTP 404"
        ):
            await import_coingecko(conn, client, "dogecoin-x", SINCE, SINCE + DAY)
    assert await _counts(conn) == (0, 0)
