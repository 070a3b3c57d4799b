"""History API over real PostgreSQL: pages walk every row once, holes are listed and never
filled, sources are chosen by priority, and bad parameters are refused by name."""

from __future__ import annotations

import itertools
import urllib.parse
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.accounts import Scope
from aether.domain.bars import Bar
from aether.marketdata import store
from aether.marketdata.records import (
    CandleRecord,
    CandleSource,
    GapRecord,
    TradeRecord,
    ns_to_datetime,
)
from aether.marketdata.registry import instrument_values
from aether.security import key_store, users
from aether.storage.tables import InstrumentRow
from aether.venues.kraken.asset_pairs import instruments_from_asset_pairs
from tests.conftest import Seed

NS = 1_000_000_000
T0_S = 1_735_689_600  # 2025-01-01T00:00:00Z
T0 = datetime.fromtimestamp(T0_S, UTC)
MINUTE = timedelta(minutes=1)
CANDLES = "/api/v1/market/XBTUSD/candles"
TRADES = "/api/v1/market/XBTUSD/trades"


@pytest.fixture
def conn(aether_pg: asyncpg.Connection) -> asyncpg.Connection:
    return aether_pg


def _candle(minute: int, source: CandleSource, close: str = "100.5") -> CandleRecord:
    bar = Bar(
        "XBTUSD",
        T0_S + 60 * minute,
        60,
        Decimal("100.1"),
        Decimal("101.25"),
        Decimal("99.75"),
        Decimal(close),
        Decimal("1.23456789"),
        7,
    )
    return CandleRecord(bar, source)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def _walk(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str]
) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "pagination does not end"


def _missing_minutes(pages: list[dict[str, Any]]) -> list[int]:
    minutes = []
    for page in pages:
        for run in page["missing"]:
            start, end = _at(run["start"]), _at(run["end"])
            assert run["intervals"] == (end - start) // MINUTE
            minutes += [(start - T0) // MINUTE + k for k in range(run["intervals"])]
    return minutes


async def test_candle_pages_walk_every_row_once_and_list_the_holes(
    aether_api: httpx.AsyncClient, aether_seed: Seed, conn: asyncpg.Connection
) -> None:
    present = [m for m in range(30) if m not in (0, 5, 6, 7, 20, 29)]
    await store.upsert_candles(conn, [_candle(m, "kraken-csv") for m in present])
    params = {"interval": "1m", "start": _iso(T0), "end": _iso(T0 + 30 * MINUTE), "limit": 4}
    pages = await _walk(aether_api, CANDLES, params, aether_seed.alice.headers)
    starts = [_at(c["start"]) for page in pages for c in page["candles"]]
    assert starts == [T0 + m * MINUTE for m in present]  # in order, each once
    assert len(pages) == 6
    # Holes are listed, never filled: every minute is either a candle or missing, not both.
    assert _missing_minutes(pages) == [0, 5, 6, 7, 20, 29]
    # Consecutive pages' spans meet, so no interval is checked twice or skipped.
    for before, after in itertools.pairwise(pages):
        assert before["span"]["end"] == after["span"]["start"]
    assert _at(pages[0]["span"]["start"]) == T0
    assert _at(pages[-1]["span"]["end"]) == T0 + 30 * MINUTE
    first = pages[0]["candles"][0]
    assert first == {
        "start": first["start"],
        "open": "100.1",
        "high": "101.25",
        "low": "99.75",
        "close": "100.5",
        "volume": "1.23456789",
        "trades": 7,
        "source": "kraken-csv",
    }
    # Seconds and the short form are the same interval.
    seconds = await aether_api.get(
        CANDLES, params={**params, "interval": "60", "limit": 100}, headers=aether_seed.bob.headers
    )
    assert [c["start"] for c in seconds.json()["candles"]] == [
        c["start"] for p in pages for c in p["candles"]
    ]


async def test_open_ended_requests_check_only_between_stored_candles(
    aether_api: httpx.AsyncClient, aether_seed: Seed, conn: asyncpg.Connection
) -> None:
    await store.upsert_candles(conn, [_candle(m, "kraken-ws") for m in (3, 4, 8)])
    body = (
        await aether_api.get(CANDLES, params={"interval": "1m"}, headers=aether_seed.alice.headers)
    ).json()
    assert body["span"] == {"start": None, "end": None}
    assert _missing_minutes([body]) == [5, 6, 7]
    assert body["next_cursor"] is None


async def test_source_priority_and_a_single_source(
    aether_api: httpx.AsyncClient, aether_seed: Seed, conn: asyncpg.Connection
) -> None:
    await store.upsert_candles(
        conn,
        [
            *(_candle(m, "trades", "1") for m in range(6)),
            *(_candle(m, "kraken-csv", "2") for m in (0, 1, 2, 3)),
            *(_candle(m, "kraken-ohlc", "3") for m in (0, 1)),
            _candle(0, "kraken-ws", "4"),
            _candle(2, "kraken-ws", "4"),
        ],
    )
    params = {"interval": "1m", "start": _iso(T0), "end": _iso(T0 + 8 * MINUTE)}
    headers = aether_seed.alice.headers
    # Small pages: the per-interval choice must not depend on where a page ends.
    pages = await _walk(aether_api, CANDLES, {**params, "limit": 2}, headers)
    chosen = [(c["source"], c["close"]) for p in pages for c in p["candles"]]
    assert chosen == [
        ("kraken-ws", "4"),
        ("kraken-ohlc", "3"),
        ("kraken-ws", "4"),
        ("kraken-csv", "2"),
        ("trades", "1"),
        ("trades", "1"),
    ]
    assert all(p["source"] is None for p in pages)
    assert _missing_minutes(pages) == [6, 7]
    only_ohlc = {**params, "source": "kraken-ohlc"}
    only = (await aether_api.get(CANDLES, params=only_ohlc, headers=headers)).json()
    assert only["source"] == "kraken-ohlc"
    assert [(c["source"], c["close"]) for c in only["candles"]] == [("kraken-ohlc", "3")] * 2
    # Missing is judged per source: kraken-ohlc has nothing from minute 2 on.
    assert _missing_minutes([only]) == [2, 3, 4, 5, 6, 7]


def _gap(symbol: str, kind: str, start: int, end: int | None, reason: str) -> GapRecord:
    """A gap ``start``..``end`` seconds after T0."""
    end_ns = None if end is None else (T0_S + end) * NS
    return GapRecord(symbol, kind, (T0_S + start) * NS, end_ns, reason, "ingest")


async def test_recorded_gaps_overlapping_the_range_are_listed(
    aether_api: httpx.AsyncClient, aether_seed: Seed, conn: asyncpg.Connection
) -> None:
    await store.upsert_candles(conn, [_candle(m, "kraken-ws") for m in range(10)])
    await store.record_gaps(
        conn,
        [
            _gap("XBTUSD", "ohlc", 120, 150, "reconnect"),
            _gap("XBTUSD", "trade", 500, None, "database unavailable"),
            _gap("XBTUSD", "book", 130, None, "checksum"),  # not a candle kind
            _gap("XBTUSD", "ohlc", -600, -60, "before the range"),
            _gap("ETHUSD", "ohlc", 120, None, "another pair"),
        ],
    )
    params = {"interval": "1m", "start": _iso(T0), "end": _iso(T0 + 10 * MINUTE)}
    body = (await aether_api.get(CANDLES, params=params, headers=aether_seed.alice.headers)).json()
    assert body["missing"] == []  # recorded gaps are reported, candles are not invented
    gaps = [(g["kind"], g["reason"], g["end"] and _at(g["end"])) for g in body["recorded_gaps"]]
    assert gaps == [
        ("ohlc", "reconnect", T0 + timedelta(seconds=150)),
        ("trade", "database unavailable", None),
    ]
    assert body["gaps_truncated"] is False


async def test_trade_pages_walk_every_print_once_in_time_order(
    aether_api: httpx.AsyncClient, aether_seed: Seed, conn: asyncpg.Connection
) -> None:
    # Three prints per microsecond, so pages end in the middle of equal timestamps, and ids
    # that do not follow time, so the order is (ts, trade_id) rather than the id.
    prints = [
        TradeRecord(
            "XBTUSD",
            1000 - i,
            T0_S * NS + (i // 3) * 1000 + 999,  # sub-microsecond part is floored on storage
            Decimal("95000.1") + i,
            Decimal("0.00012345"),
            "buy" if i % 2 else "sell",
            "ws",
        )
        for i in range(250)
    ]
    assert await store.copy_trades(conn, prints) == 250
    other_pair = TradeRecord("ETHUSD", 1, T0_S * NS, Decimal(1), Decimal(1), "buy", "ws")
    assert await store.copy_trades(conn, [other_pair]) == 1
    # The first page ends at T0 + 5 us (prints 0-15); the gap ends there, before page two.
    gap = GapRecord("XBTUSD", "trade", T0_S * NS, T0_S * NS + 5000, "reconnect", "ingest")
    await store.record_gaps(conn, [gap])
    params = {"start": _iso(T0), "end": _iso(T0 + MINUTE), "limit": 16}
    pages = await _walk(aether_api, TRADES, params, aether_seed.bob.headers)
    got = [t for p in pages for t in p["trades"]]
    expected = sorted(prints, key=lambda t: (t.ts_ns // 1000, t.trade_id))
    assert [t["trade_id"] for t in got] == [t.trade_id for t in expected]
    assert len(pages) == 16
    first = got[0]
    source = next(t for t in prints if t.trade_id == first["trade_id"])
    assert _at(first["ts"]) == ns_to_datetime(source.ts_ns)
    assert first == {
        "trade_id": source.trade_id,
        "ts": first["ts"],
        "price": str(source.price),
        "quantity": "0.00012345",
        "side": source.side,
        "source": "ws",
    }
    assert [g["reason"] for g in pages[0]["recorded_gaps"]] == ["reconnect"]
    assert all(p["recorded_gaps"] == [] for p in pages[1:])  # the gap ended before them


async def test_a_known_pair_without_data_is_an_empty_page(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    headers = aether_seed.alice.headers
    candles = await aether_api.get("/api/v1/market/SOLUSD/candles?interval=1h", headers=headers)
    assert candles.status_code == 200
    assert candles.json()["candles"] == []
    trades = await aether_api.get("/api/v1/market/SOLUSD/trades", headers=headers)
    assert trades.status_code == 200
    assert trades.json()["trades"] == []


async def _history_of(
    client: httpx.AsyncClient, typed: str, headers: dict[str, str]
) -> tuple[httpx.Response, httpx.Response]:
    """The candles and trades answers for a pair typed as ``typed`` (URL-encoded here)."""
    quoted = urllib.parse.quote(typed, safe="")
    candles = await client.get(f"/api/v1/market/{quoted}/candles?interval=1m", headers=headers)
    trades = await client.get(f"/api/v1/market/{quoted}/trades", headers=headers)
    return candles, trades


async def test_a_pair_is_found_under_any_common_spelling(
    aether_api: httpx.AsyncClient, aether_seed: Seed, conn: asyncpg.Connection
) -> None:
    # The registry has never loaded on this database: names come from the shipped snapshot.
    await store.upsert_candles(conn, [_candle(m, "kraken-ws") for m in range(3)])
    await store.copy_trades(
        conn, [TradeRecord("XBTUSD", 7, T0_S * NS, Decimal("95000.1"), Decimal(1), "buy", "ws")]
    )
    for typed in ("BTC/USD", "btc/usd", "XBT/USD", "XXBTZUSD", "xbtusd", "BTC-USD"):
        candles, trades = await _history_of(aether_api, typed, aether_seed.alice.headers)
        assert candles.status_code == 200, (typed, candles.text)
        assert candles.json()["symbol"] == "XBTUSD"
        assert len(candles.json()["candles"]) == 3
        assert trades.status_code == 200, (typed, trades.text)
        assert trades.json()["symbol"] == "XBTUSD"
        assert [t["trade_id"] for t in trades.json()["trades"]] == [7]
    for typed in ("ETH/BTC", "XETHXXBT", "NOPEUSD", "XBT/EUR"):
        for refused in await _history_of(aether_api, typed, aether_seed.alice.headers):
            assert refused.status_code == 422, (typed, refused.text)
            error = refused.json()["error"]
            assert [f["field"] for f in error["fields"]] == ["path.symbol"]
            assert f"{typed!r} is not a USD pair of the shipped instrument" in error["message"]


async def test_names_come_from_the_registry_once_it_has_stored_pairs(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    load = instruments_from_asset_pairs(
        {
            "XXBTZUSD": {
                "altname": "XBTUSD",
                "wsname": "XBT/USD",
                "pair_decimals": 1,
                "lot_decimals": 8,
                "ordermin": "0.00005",
                "costmin": "0.5",
                "fees": [[0, 0.4]],
                "fees_maker": [[0, 0.25]],
            }
        }
    )
    row = instrument_values(load.instruments["XBTUSD"], load.pair_keys["XBTUSD"], T0)
    aether_session.add(InstrumentRow(**row))
    await aether_session.commit()
    candles, _ = await _history_of(aether_api, "XXBTZUSD", aether_seed.alice.headers)
    assert candles.status_code == 200, candles.text
    assert candles.json()["symbol"] == "XBTUSD"
    # In the shipped snapshot, but not among the registry's pairs.
    refused, _ = await _history_of(aether_api, "ETH/USD", aether_seed.alice.headers)
    assert refused.status_code == 422
    message = refused.json()["error"]["message"]
    assert "'ETH/USD' is not a USD pair of the instrument registry" in message


async def test_routes_need_a_key_with_the_read_scope(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    for path in (f"{CANDLES}?interval=1m", TRADES):
        assert (await aether_api.get(path)).status_code == 401
    user = await users.create(aether_session, name="carol", is_platform_admin=False, actor="t")
    _, key = await key_store.issue(
        aether_session, user_id=user.id, name="t", scopes=[Scope.TRADE], expires_at=None, actor="t"
    )
    await aether_session.commit()
    headers = {"Authorization": f"Bearer {key.token}"}
    for path in (f"{CANDLES}?interval=1m", TRADES):
        refused = await aether_api.get(path, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "insufficient_scope"


BAD_PARAMETERS = [
    (f"{CANDLES}?interval=7x", "query.interval"),
    (f"{CANDLES}?interval=0", "query.interval"),
    (f"{CANDLES}?interval=16d", "query.interval"),
    (CANDLES, "query.interval"),
    (f"{CANDLES}?interval=1m&limit=0", "query.limit"),
    (f"{CANDLES}?interval=1m&limit=5001", "query.limit"),
    (f"{CANDLES}?interval=1m&source=coingecko", "query.source"),
    (f"{CANDLES}?interval=1m&start=2025-01-02T00:00:00Z&end=2025-01-01T00:00Z", "query.start"),
    (f"{CANDLES}?interval=1m&start=2025-01-01T00:00:00", "query.start"),  # no zone
    (f"{CANDLES}?interval=1m&cursor=not-a-cursor", "query.cursor"),
    ("/api/v1/market/NOPEUSD/candles?interval=1m", "path.symbol"),
    ("/api/v1/market/ETH%2FBTC/trades", "path.symbol"),
    (f"{TRADES}?limit=5001", "query.limit"),
    (f"{TRADES}?start=2025-01-01T00:00:00Z&end=2025-01-01T00:00:00Z", "query.start"),
    (f"{TRADES}?cursor=%25%25", "query.cursor"),
]


async def test_bad_parameters_are_422_naming_them(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    # One app for every case: the refusals read no data, and a fresh app per case is slow.
    for path, field in BAD_PARAMETERS:
        response = await aether_api.get(path, headers=aether_seed.alice.headers)
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert error["code"] == "validation_error", path
        assert [f["field"] for f in error["fields"]] == [field], path


async def test_a_cursor_only_continues_its_own_query(
    aether_api: httpx.AsyncClient, aether_seed: Seed, conn: asyncpg.Connection
) -> None:
    await store.upsert_candles(conn, [_candle(m, "kraken-ws") for m in range(4)])
    headers = aether_seed.alice.headers
    first = (await aether_api.get(f"{CANDLES}?interval=1m&limit=2", headers=headers)).json()
    cursor = first["next_cursor"]
    assert cursor
    for path in (
        f"{CANDLES}?interval=5m&cursor={cursor}",
        f"{CANDLES}?interval=1m&source=trades&cursor={cursor}",
        f"/api/v1/market/ETHUSD/candles?interval=1m&cursor={cursor}",
        f"{TRADES}?cursor={cursor}",
    ):
        refused = await aether_api.get(path, headers=headers)
        assert refused.status_code == 422, path
        assert refused.json()["error"]["fields"][0]["field"] == "query.cursor"
