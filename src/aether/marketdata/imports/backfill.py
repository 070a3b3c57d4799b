"""``aether data backfill``: history deeper than Kraken's OHLC window, built from ``Trades``.

Kraken's REST ``OHLC`` returns only the 720 most recent candles, so older candles are built
from public trades, paged forward with the ``last`` cursor (Kraken's "Get Recent Trades").

Rules a caller must know:

* Trades go to ``market_trades`` (source ``rest``); candles are rebuilt from the *stored*
  trades of every interval the backfill has closed (source ``trades``), so an interval
  split across pages or runs is whole. An interval is closed once a trade of a later
  interval (or ``until``) is seen: the newest interval stays open until the next run.
* The start is ``since`` rounded down to the interval, else the end of the pair's stored
  ``kraken-csv`` candles (bulk data up to its end, trades from there on), else the saved
  cursor's start; with none of them, ImportInputError asks for ``since``.
* Resumable: the cursor (job ``backfill:<PAIR>``) commits with each page's rows; a re-run
  whose start lies inside the saved run continues from its cursor. Idempotent: a re-run
  over the same range adds no row.
* It stops at ``until`` or when it reaches the present (a short page or a cursor that does
  not move). Intervals without trades in the closed range are recorded as gaps (kind
  ``candle``, source ``import:backfill``), never filled.
* Pages go through one shared :class:`KrakenRest`, whose rate-limit counter makes parallel
  pairs wait their turn instead of being refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from aether.marketdata import store
from aether.marketdata.candle_builder import candles_from_trades, interval_start
from aether.marketdata.history_holes import missing_runs
from aether.marketdata.imports.cursors import cursor_int, load_cursor, save_cursor
from aether.marketdata.imports.errors import ImportInputError, ImportSourceError
from aether.marketdata.imports.report import ImportReport, iso_utc
from aether.marketdata.records import GapRecord, TradeRecord, datetime_to_ns, ns_to_datetime
from aether.venues.kraken.errors import KrakenError
from aether.venues.kraken.rest import KrakenRest, KrakenTransportError
from aether.venues.kraken.symbols import pair_key
from aether.venues.kraken.trades_page import TradesPage, TradesPageError, parse_trades_page

NS = 1_000_000_000
GAP_SOURCE = "import:backfill"
MAX_PAGE = 1000  # Kraken's largest ``count``


class BackfillProgress(Protocol):
    """Told where each pair's backfill starts and how far its trades have reached."""

    def begin(self, pair: str, from_s: int, to_s: int | None) -> None: ...

    def advance(self, pair: str, at_s: int) -> None: ...


@dataclass(frozen=True, slots=True)
class StartPoint:
    """Where a pair's run begins: the range it covers starts at ``range_start_s`` and the
    first ``Trades`` call passes ``cursor_ns`` as ``since``; ``resumed`` when it continues
    a saved run."""

    range_start_s: int
    cursor_ns: int
    resumed: bool


def start_point(
    pair: str,
    interval_s: int,
    since_s: int | None,
    bulk_end_s: int | None,
    saved: Mapping[str, Any] | None,
) -> StartPoint:
    """Decide where a run starts (see the module rules); pure."""
    job = f"backfill:{pair}"
    saved_since = cursor_int(saved, job, "since_s") if saved is not None else None
    saved_last = cursor_int(saved, job, "last_ns") if saved is not None else None
    start = since_s if since_s is not None else bulk_end_s
    if start is None:
        start = saved_since
    if start is None:
        raise ImportInputError(
            f"{pair}: no --since given, no bulk kraken-csv candles stored and no earlier "
            "backfill to continue: pass --since (e.g. --since 2026-01-01T00:00:00Z)"
        )
    start -= start % interval_s
    if (
        saved_since is not None
        and saved_last is not None
        and saved_since <= start
        and start * NS <= saved_last
    ):
        return StartPoint(start, saved_last, True)
    # Kraken returns trades after ``since``: one nanosecond earlier includes a trade at it.
    return StartPoint(start, start * NS - 1, False)


async def bulk_end(conn: asyncpg.Connection, pair: str) -> int | None:
    """The end (epoch s) of ``pair``'s newest stored ``kraken-csv`` candle, or None."""
    end: datetime | None = await conn.fetchval(
        "SELECT max(start + make_interval(secs => interval_s)) FROM candles "
        "WHERE symbol = $1 AND source = 'kraken-csv'",
        pair,
    )
    return None if end is None else datetime_to_ns(end) // NS


async def _rebuild_candles(
    conn: asyncpg.Connection, pair: str, interval_s: int, from_s: int, to_s: int
) -> int:
    """Rebuild ``pair``'s trade candles of ``[from_s, to_s)`` from every stored trade."""
    rows = await conn.fetch(
        "SELECT trade_id, ts, price, quantity, side FROM market_trades "
        "WHERE symbol = $1 AND ts >= $2 AND ts < $3",
        pair,
        ns_to_datetime(from_s * NS),
        ns_to_datetime(to_s * NS),
    )
    trades = [
        TradeRecord(
            pair,
            r["trade_id"],
            datetime_to_ns(r["ts"]),
            r["price"],
            r["quantity"],
            r["side"],
            "rest",
        )
        for r in rows
    ]
    return await store.upsert_candles(conn, candles_from_trades(trades, interval_s))


async def _gaps(
    conn: asyncpg.Connection, pair: str, interval_s: int, from_s: int, to_s: int
) -> list[GapRecord]:
    starts = await conn.fetch(
        "SELECT start FROM candles WHERE symbol = $1 AND interval_s = $2 "
        "AND source = 'trades' AND start >= $3 AND start < $4",
        pair,
        interval_s,
        ns_to_datetime(from_s * NS),
        ns_to_datetime(to_s * NS),
    )
    holes = missing_runs(
        (datetime_to_ns(r["start"]) // NS for r in starts), interval_s, from_s, to_s
    )
    return [
        GapRecord(
            pair,
            "candle",
            hole.start * NS,
            hole.end * NS,
            f"no trades in {hole.missing} x {interval_s} s interval(s)",
            GAP_SOURCE,
        )
        for hole in holes
    ]


async def _page(
    rest: KrakenRest, pair: str, key: str, since_ns: int, count: int
) -> tuple[TradesPage, list[TradeRecord]]:
    """One page of ``pair``'s trades after ``since_ns`` and its prints as ``rest`` rows;
    ImportSourceError when Kraken fails or answers in a shape not accepted."""
    try:
        result = await rest.public("Trades", {"pair": pair, "since": since_ns, "count": count})
    except (KrakenError, KrakenTransportError) as exc:
        raise ImportSourceError(f"Kraken Trades {pair} since {since_ns}: {exc}") from exc
    try:
        page = parse_trades_page(result, pair, key)
    except TradesPageError as exc:
        raise ImportSourceError(str(exc)) from None
    return page, [TradeRecord.of_tick(tick, "rest") for tick in page.trades]


async def backfill_pair(
    conn: asyncpg.Connection,
    rest: KrakenRest,
    pair: str,
    *,
    interval_s: int,
    since_s: int | None = None,
    until_s: int | None = None,
    page_size: int = MAX_PAGE,
    progress: BackfillProgress | None = None,
) -> ImportReport:
    """Backfill one pair (altname, already checked as a spot USD pair); see the module rules."""
    if interval_s <= 0:
        raise ImportInputError(f"interval must be positive, got {interval_s} s")
    if not 1 <= page_size <= MAX_PAGE:
        raise ImportInputError(f"page size must be 1 to {MAX_PAGE}, got {page_size}")
    job = f"backfill:{pair}"
    saved = await load_cursor(conn, job)
    bulk = await bulk_end(conn, pair) if since_s is None else None
    start = start_point(pair, interval_s, since_s, bulk, saved)
    until = None if until_s is None else until_s - until_s % interval_s
    if until is not None and until <= start.range_start_s:
        raise ImportInputError(
            f"{pair}: --until {iso_utc(until_s)} is not after the start "
            f"{iso_utc(start.range_start_s)}"
        )
    key = pair_key(pair)
    report = ImportReport(job=job, subject=pair, first_s=start.range_start_s)
    report.added.update({"market_trades": 0, "candles": 0, "market_gaps": 0})
    if start.resumed:
        report.resumed_from_s = start.cursor_ns // NS
    cursor = start.cursor_ns
    open_from = max(start.range_start_s, interval_start(cursor, interval_s))
    if progress is not None:
        progress.begin(pair, start.range_start_s, until)
    while True:
        page, trades = await _page(rest, pair, key, cursor, page_size)
        kept = [t for t in trades if until is None or t.ts_ns < until * NS]
        reached_until = len(kept) < len(trades)
        at_present = len(trades) < page_size or page.last_ns <= cursor
        if reached_until:
            assert until is not None
            next_cursor, closed_to = until * NS - 1, until
        else:
            next_cursor = max(page.last_ns, cursor)
            newest = max((t.ts_ns for t in kept), default=None)
            closed_to = open_from if newest is None else interval_start(newest, interval_s)
        closed_to = max(closed_to, open_from)
        async with conn.transaction():
            report.add("market_trades", await store.copy_trades(conn, kept))
            if closed_to > open_from:
                built = await _rebuild_candles(conn, pair, interval_s, open_from, closed_to)
                report.add("candles", built)
            await save_cursor(conn, job, {"since_s": start.range_start_s, "last_ns": next_cursor})
        report.rows_read += len(kept)
        open_from, cursor = closed_to, next_cursor
        if progress is not None:
            progress.advance(pair, cursor // NS)
        if reached_until or at_present:
            break
    report.end_s = open_from
    gaps = await _gaps(conn, pair, interval_s, start.range_start_s, open_from)
    report.gaps_found = len(gaps)
    report.gaps_recorded = await store.record_gaps(conn, gaps)
    report.add("market_gaps", report.gaps_recorded)
    if open_from == start.range_start_s:
        report.notes.append("no interval closed yet: run again later to build its candles")
    return report


class BackfillFailed(Exception):
    """Some pairs failed; ``reports`` holds the pairs that finished, ``errors`` the others
    (their progress up to the failure is saved: a re-run continues)."""

    def __init__(self, reports: list[ImportReport], errors: dict[str, Exception]) -> None:
        self.reports = reports
        self.errors = errors
        super().__init__("; ".join(f"{pair}: {exc}" for pair, exc in errors.items()))


async def backfill(
    pool: asyncpg.Pool,
    rest: KrakenRest,
    pairs: Sequence[str],
    *,
    interval_s: int,
    since_s: int | None = None,
    until_s: int | None = None,
    page_size: int = MAX_PAGE,
    parallel: int = 3,
    progress: BackfillProgress | None = None,
) -> list[ImportReport]:
    """Backfill ``pairs`` with at most ``parallel`` at a time, each on its own connection.

    One pair's failure does not stop the others; once all have ended, BackfillFailed
    lists every failure (with the reports of the pairs that finished).
    """
    if parallel < 1:
        raise ImportInputError(f"parallel must be at least 1, got {parallel}")
    gate = asyncio.Semaphore(parallel)

    async def one(pair: str) -> ImportReport:
        async with gate, pool.acquire() as conn:
            return await backfill_pair(
                conn,
                rest,
                pair,
                interval_s=interval_s,
                since_s=since_s,
                until_s=until_s,
                page_size=page_size,
                progress=progress,
            )

    outcomes = await asyncio.gather(*(one(pair) for pair in pairs), return_exceptions=True)
    reports: list[ImportReport] = []
    errors: dict[str, Exception] = {}
    for pair, outcome in zip(pairs, outcomes, strict=True):
        if isinstance(outcome, ImportReport):
            reports.append(outcome)
        elif isinstance(outcome, Exception):
            errors[pair] = outcome
        else:
            raise outcome  # cancellation and other BaseExceptions are not a pair's failure
    if errors:
        raise BackfillFailed(reports, errors)
    return reports
