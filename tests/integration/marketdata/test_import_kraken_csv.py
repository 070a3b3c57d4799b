"""Kraken bulk CSV into candles: counts, gaps, idempotence, resume, refusal of bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from aether.marketdata.imports.kraken_csv import import_kraken_csv
from aether.marketdata.shipped import shipped_data
from aether.venues.kraken.ohlcvt_csv import HistoryFormatError

SLICE = shipped_data("kraken_XBTUSD_60.csv")


@pytest.fixture
def conn(aether_pg: asyncpg.Connection) -> asyncpg.Connection:
    return aether_pg


async def _counts(conn: asyncpg.Connection) -> tuple[int, int]:
    candles = await conn.fetchval("SELECT count(*) FROM candles")
    gaps = await conn.fetchval("SELECT count(*) FROM market_gaps")
    return candles, gaps


async def test_the_shipped_slice_imports_whole_with_its_one_gap_and_reimports_nothing(
    conn: asyncpg.Connection,
) -> None:
    report = await import_kraken_csv(conn, SLICE, "XBTUSD", 3600)
    assert report.added == {"candles": 17541, "market_gaps": 1}
    assert (report.rows_read, report.gaps_found, report.gaps_recorded) == (17541, 1, 1)
    assert await _counts(conn) == (17541, 1)
    gap = await conn.fetchrow("SELECT * FROM market_gaps")
    assert int(gap["start"].timestamp()) == 1563141600
    assert int(gap["end_at"].timestamp()) == 1563152400
    assert (gap["kind"], gap["source"]) == ("candle", "import:kraken-csv")
    first = await conn.fetchrow("SELECT * FROM candles ORDER BY start LIMIT 1")
    assert (first["source"], first["interval_s"]) == ("kraken-csv", 3600)
    assert isinstance(first["open"], Decimal)

    again = await import_kraken_csv(conn, SLICE, "XBTUSD", 3600)
    assert again.added == {"candles": 0, "market_gaps": 0}
    assert again.gaps_found == 1
    assert await _counts(conn) == (17541, 1)
    # Without the cursor (a fresh job), every row is written again and still nothing is added.
    await conn.execute("DELETE FROM import_progress")
    fresh = await import_kraken_csv(conn, SLICE, "XBTUSD", 3600)
    assert fresh.added == {"candles": 0, "market_gaps": 0}
    assert await _counts(conn) == (17541, 1)


class _Interrupted(Exception):
    pass


async def test_an_interrupted_import_continues_after_its_last_batch(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "XBTUSD_60.csv"
    path.write_text("".join(SLICE.read_text().splitlines(keepends=True)[:1000]))
    seen: list[int] = []

    def stop_after_two_batches(done: int, total: int) -> None:
        seen.append(done)
        if done >= 600:
            raise _Interrupted

    with pytest.raises(_Interrupted):
        await import_kraken_csv(
            conn, path, "XBTUSD", 3600, batch_rows=300, on_progress=stop_after_two_batches
        )
    assert seen == [0, 300, 600]
    assert await conn.fetchval("SELECT count(*) FROM candles") == 600
    report = await import_kraken_csv(conn, path, "XBTUSD", 3600, batch_rows=300)
    assert report.resumed_from_s is not None
    assert report.added["candles"] == 400
    assert await conn.fetchval("SELECT count(*) FROM candles") == 1000


async def test_a_malformed_row_names_file_and_line_and_stores_nothing(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    lines = SLICE.read_text().splitlines()[:50]
    lines[41] = lines[41].replace(",", ",x", 1)
    path = tmp_path / "XBTUSD_60.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(HistoryFormatError, match=rf"{path}:42: open"):
        await import_kraken_csv(conn, path, "XBTUSD", 3600, batch_rows=10)
    assert await _counts(conn) == (0, 0)
    assert await conn.fetchval("SELECT count(*) FROM import_progress") == 0
