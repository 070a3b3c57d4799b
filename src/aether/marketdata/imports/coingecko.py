"""``aether data import coingecko``: CoinGecko USD reference prices into ``reference_prices``.

Rules a caller must know:

* The range ``[since, until)`` is fetched in windows of at most
  :data:`~.coingecko_client.MAX_WINDOW_S` (hourly points); each window's rows commit with
  the job's cursor (``coingecko:<coin>``: the run's start and how far it got), so an
  interrupted import continues after its last window. Idempotent: points already stored
  (same source, coin and time) are skipped.
* Holes longer than :data:`MAX_STEP_S` between consecutive points are recorded as gaps
  (kind ``reference``, source ``import:coingecko``); nothing fills them.
* CoinGecko prices are context for models, never trading prices.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

import asyncpg

from aether.marketdata import store
from aether.marketdata.imports.coingecko_client import MAX_WINDOW_S, SOURCE, CoinGeckoClient
from aether.marketdata.imports.cursors import cursor_int, load_cursor, save_cursor
from aether.marketdata.imports.errors import ImportInputError
from aether.marketdata.imports.report import ImportReport
from aether.marketdata.records import GapRecord, ReferencePrice, datetime_to_ns, ns_to_datetime

GAP_SOURCE = "import:coingecko"
#: Consecutive hourly points further apart than this leave at least one hour out.
MAX_STEP_S = 5400
NS = 1_000_000_000
_COIN_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

Progress = Callable[[int, int], None]  # (seconds of the range done, seconds in total)


def check_coin(coin: str) -> str:
    """A CoinGecko coin id (``bitcoin``), else ImportInputError naming it."""
    if not _COIN_ID.match(coin):
        raise ImportInputError(
            f"--coin {coin!r}: not a CoinGecko coin id (lowercase letters, digits and "
            "hyphens, e.g. bitcoin, ethereum, avalanche-2)"
        )
    return coin


def windows(start_s: int, end_s: int, span_s: int = MAX_WINDOW_S) -> list[tuple[int, int]]:
    """``[start_s, end_s)`` cut into consecutive windows of at most ``span_s`` seconds."""
    if span_s <= 0:
        raise ValueError(f"span_s must be positive, got {span_s}")
    return [(lo, min(lo + span_s, end_s)) for lo in range(start_s, end_s, span_s)]


def point_gaps(
    coin: str, stamps_ns: Sequence[int], previous_ns: int | None, max_step_s: int = MAX_STEP_S
) -> list[GapRecord]:
    """Gaps between consecutive points (``previous_ns``: the last point stored before)."""
    gaps = []
    last = previous_ns
    for stamp in sorted(stamps_ns):
        if last is not None and stamp - last > max_step_s * NS:
            hours = (stamp - last) / (3600 * NS)
            gaps.append(
                GapRecord(
                    coin,
                    "reference",
                    last,
                    stamp,
                    f"no CoinGecko point for {hours:.1f} h",
                    GAP_SOURCE,
                )
            )
        last = stamp
    return gaps


async def _previous_point(conn: asyncpg.Connection, coin: str, since_s: int, before_s: int) -> int:
    """The newest stored point in ``[since_s - MAX_STEP_S, before_s)``, else ``since_s``
    itself (so a hole at the start of the range is found too)."""
    moment: datetime | None = await conn.fetchval(
        "SELECT max(ts) FROM reference_prices "
        "WHERE source = $1 AND coin = $2 AND ts >= $3 AND ts < $4",
        SOURCE,
        coin,
        ns_to_datetime((since_s - MAX_STEP_S) * NS),
        ns_to_datetime(before_s * NS),
    )
    return since_s * NS if moment is None else datetime_to_ns(moment)


async def import_coingecko(
    conn: asyncpg.Connection,
    client: CoinGeckoClient,
    coin: str,
    since_s: int,
    until_s: int,
    *,
    window_s: int = MAX_WINDOW_S,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import ``coin``'s USD reference prices over ``[since_s, until_s)``; see the rules."""
    check_coin(coin)
    if until_s <= since_s:
        raise ImportInputError(f"--until must be after --since ({until_s} <= {since_s})")
    job = f"coingecko:{coin}"
    report = ImportReport(job=job, subject=coin, first_s=since_s, end_s=until_s)
    report.added.update({"reference_prices": 0, "market_gaps": 0})
    saved = await load_cursor(conn, job)
    start, cursor_since = since_s, since_s
    if saved is not None:
        saved_since = cursor_int(saved, job, "since_s")
        done_to = cursor_int(saved, job, "done_to_s")
        if saved_since <= since_s <= done_to:
            # Continue the saved run; its cursor keeps the saved start and end.
            start, cursor_since = min(done_to, until_s), saved_since
            report.resumed_from_s = start
    previous = await _previous_point(conn, coin, since_s, start)
    total = until_s - since_s
    if on_progress is not None:
        on_progress(start - since_s, total)
    for lo, hi in windows(start, until_s, window_s):
        points: list[ReferencePrice] = [
            p for p in await client.market_chart_range(coin, lo, hi) if p.ts_ns < until_s * NS
        ]
        gaps = point_gaps(coin, [p.ts_ns for p in points], previous)
        async with conn.transaction():
            report.add("reference_prices", await store.upsert_reference_prices(conn, points))
            recorded = await store.record_gaps(conn, gaps)
            report.gaps_recorded += recorded
            report.add("market_gaps", recorded)
            await save_cursor(conn, job, {"since_s": cursor_since, "done_to_s": hi})
        report.rows_read += len(points)
        report.gaps_found += len(gaps)
        if points:
            previous = max(previous, points[-1].ts_ns)
        if on_progress is not None:
            on_progress(hi - since_s, total)
    if client.waited_s:
        report.notes.append(f"waited {client.waited_s:.0f} s on CoinGecko rate limits")
    return report
