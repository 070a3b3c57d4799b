"""``aether data import kraken-csv``: Kraken's bulk OHLCVT file into the ``candles`` table.

Rules a caller must know:

* The whole file is validated first (``venues.kraken.ohlcvt_csv.load_kraken_csv``): a
  malformed row refuses
  the file, naming file and line, before anything is written.
* Candles are stored with source ``kraken-csv`` in batches; each batch commits together
  with the job's cursor (``kraken-csv:<PAIR>:<interval_s>``: the file's SHA-256 and the
  last start stored), so an interrupted import of the same file continues after its last
  batch, and a different file starts from its first row.
* Missing intervals inside the file's range (its holes) are recorded as gaps in
  ``market_gaps`` (kind ``candle``, source ``import:kraken-csv``); nothing fills them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import asyncpg

from aether.domain.bars import Bar
from aether.marketdata import store
from aether.marketdata.bar_series import find_holes
from aether.marketdata.imports.cursors import cursor_int, load_cursor, save_cursor
from aether.marketdata.imports.errors import ImportInputError
from aether.marketdata.imports.report import ImportReport
from aether.marketdata.records import CandleRecord, CandleSource, GapRecord
from aether.venues.kraken.ohlcvt_csv import load_kraken_csv, name_parts

CANDLE_SOURCE: CandleSource = "kraken-csv"
GAP_SOURCE = "import:kraken-csv"
BATCH_ROWS = 5000
NS = 1_000_000_000

Progress = Callable[[int, int], None]  # (rows done, rows in total)


def interval_seconds(path: Path, minutes: int | None, pair: str, known_pairs: set[str]) -> int:
    """The file's interval in seconds from ``minutes`` (the option) or the file name.

    ImportInputError when neither says, when they disagree, or when the file name names a
    different known pair than ``pair`` (importing ETHUSD rows as XBTUSD is refused).
    """
    named_pair, named_minutes = name_parts(path)
    if named_pair is not None and named_pair in known_pairs and named_pair != pair:
        raise ImportInputError(
            f"{path}: the file name says {named_pair}, but --pair is {pair}; "
            "rename the file or pass the matching --pair"
        )
    if minutes is not None:
        if minutes < 1:
            raise ImportInputError(f"--interval {minutes}: must be at least 1 minute")
        if named_minutes is not None and named_minutes != minutes:
            raise ImportInputError(
                f"{path}: the file name says {named_minutes}-minute candles, "
                f"but --interval is {minutes}"
            )
        return minutes * 60
    if named_minutes is None or named_minutes < 1:
        raise ImportInputError(
            f"{path}: cannot tell the candle interval from the file name "
            "(Kraken names files PAIR_MINUTES.csv); pass --interval MINUTES"
        )
    return named_minutes * 60


def candles_of(bars: Sequence[Bar]) -> list[CandleRecord]:
    """The file's bars as ``kraken-csv`` candle rows."""
    return [CandleRecord(b, CANDLE_SOURCE) for b in bars]


def gaps_of(bars: Sequence[Bar]) -> list[GapRecord]:
    """A gap to record for every hole (run of missing intervals) between the file's first
    and last bar."""
    if not bars:
        return []
    interval = bars[0].interval
    return [
        GapRecord(
            bars[0].symbol,
            "candle",
            hole.start * NS,
            hole.end * NS,
            f"{hole.missing} x {interval} s candle(s) absent from the Kraken CSV (no trades)",
            GAP_SOURCE,
        )
        for hole in find_holes(bars)
    ]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


async def import_kraken_csv(
    conn: asyncpg.Connection,
    path: Path,
    pair: str,
    interval_s: int,
    *,
    batch_rows: int = BATCH_ROWS,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Store a validated Kraken OHLCVT file of ``pair`` as candles; the report counts rows
    added and gaps found. ``pair`` must already be checked (``pairs.spot_usd_pair``).

    Raises HistoryFormatError (file and line) for a malformed file, before any write.
    """
    bars = load_kraken_csv(path, pair, interval_s)
    job = f"kraken-csv:{pair}:{interval_s}"
    report = ImportReport(job=job, subject=pair, rows_read=len(bars))
    report.added.update({"candles": 0, "market_gaps": 0})
    if not bars:
        return report
    report.first_s, report.end_s = bars[0].start, bars[-1].end
    digest = file_sha256(path)
    saved = await load_cursor(conn, job)
    through = -1
    if saved is not None and saved.get("sha256") == digest:
        through = cursor_int(saved, job, "through_s")
    todo = [bar for bar in bars if bar.start > through]
    if len(todo) < len(bars):
        report.resumed_from_s = todo[0].start if todo else bars[-1].end
    done = len(bars) - len(todo)
    if on_progress is not None:
        on_progress(done, len(bars))
    for offset in range(0, len(todo), batch_rows):
        batch = todo[offset : offset + batch_rows]
        async with conn.transaction():
            report.add("candles", await store.upsert_candles(conn, candles_of(batch)))
            await save_cursor(conn, job, {"sha256": digest, "through_s": batch[-1].start})
        done += len(batch)
        if on_progress is not None:
            on_progress(done, len(bars))
    gaps = gaps_of(bars)
    report.gaps_found = len(gaps)
    report.gaps_recorded = await store.record_gaps(conn, gaps)
    report.add("market_gaps", report.gaps_recorded)
    return report
