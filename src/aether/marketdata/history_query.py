"""Stored market history for readers (the API, the CLI, strategies): candles and trades in
keyset-paginated pages, with the holes made visible.

Rules every caller can rely on:

- Candles: one per interval start. By default the source is chosen by ``SOURCE_PRIORITY``
  (what Kraken sent first, trade-built last); a query naming a source reads only that one.
- Missing intervals are the interval starts (epoch-aligned multiples of the interval) inside a
  page's span that have no candle, reported as ``[start, end)`` runs; nothing is filled in.
  An open-ended request (no ``start``/``end``) is checked only between stored candles.
- Recorded gaps (``market_gaps``) overlapping a page's span are listed with their reason.
- Cursors are opaque strings bound to the symbol and the query's interval and source; a
  cursor from another query is refused rather than silently reinterpreted.
- What a reader may ask, and the refusals naming the parameter, are ``history_request``;
  the cursors ``history_cursor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final, cast, get_args

from sqlalchemy import ColumnElement, Row, Select, and_, literal, or_, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.bars import Bar
from aether.marketdata import history_holes
from aether.marketdata.history_cursor import CursorError, decode_cursor, encode_cursor
from aether.marketdata.history_request import (
    MAX_INTERVAL_S,
    CandleQuery,
    HistoryQueryError,
    TradeQuery,
    check_range,
    check_symbol,
)
from aether.marketdata.records import CandleRecord, CandleSource, datetime_to_ns, ns_to_datetime
from aether.storage.tables import CandleRow, MarketGapRow, MarketTradeRow

#: Which candle wins when several sources hold the same interval: received from Kraken
#: (live WebSocket, then REST OHLC, then the bulk CSV) before candles built from trades.
SOURCE_PRIORITY: Final[tuple[CandleSource, ...]] = (
    "kraken-ws",
    "kraken-ohlc",
    "kraken-csv",
    "trades",
)
CANDLE_SOURCES: Final[frozenset[str]] = frozenset(get_args(CandleSource))
#: Recorded gaps that affect candles: their own kinds, and trades (candles are built from them).
CANDLE_GAP_KINDS: Final[tuple[str, ...]] = ("candle", "ohlc", "trade")
TRADE_GAP_KINDS: Final[tuple[str, ...]] = ("trade",)
#: At most this many recorded gaps per page; more sets ``gaps_truncated``.
MAX_RECORDED_GAPS: Final = 1000

_US = timedelta(microseconds=1)
_NS: Final = 1_000_000_000


# -- cursors -------------------------------------------------------------------------------


def _decode(cursor: str, expected_head: Sequence[object], positions: int) -> list[int]:
    """The cursor's positions (see ``history_cursor``), else HistoryQueryError on ``cursor``."""
    try:
        return decode_cursor(cursor, expected_head, positions)
    except CursorError as exc:
        raise HistoryQueryError("cursor", str(exc)) from exc


def _us(moment: datetime) -> int:
    return datetime_to_ns(moment) // 1000


def _from_us(us: int) -> datetime:
    return ns_to_datetime(us * 1000)


def candle_start(candle: CandleRecord) -> datetime:
    """When a candle's interval starts, as an aware UTC datetime."""
    return ns_to_datetime(candle.bar.start * _NS)


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """The time a page answers for, ``[start, end)``; None is open (the request was)."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class MissingRun:
    """Consecutive interval starts with no candle: ``[start, end)``, ``intervals`` of them."""

    start: datetime
    end: datetime
    intervals: int


@dataclass(frozen=True, slots=True)
class RecordedGap:
    kind: str
    start: datetime
    end: datetime | None  # None: still open
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class CandlePage:
    candles: list[CandleRecord]
    span: Span
    missing: list[MissingRun]
    recorded_gaps: list[RecordedGap]
    gaps_truncated: bool
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Trade:
    trade_id: int
    ts: datetime
    price: Decimal
    quantity: Decimal
    side: str
    source: str


@dataclass(frozen=True, slots=True)
class TradePage:
    trades: list[Trade]
    span: Span
    recorded_gaps: list[RecordedGap]
    gaps_truncated: bool
    next_cursor: str | None


# -- pages ---------------------------------------------------------------------------------


def _latest(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def _align_down(moment: datetime, interval_s: int) -> datetime:
    step_us = interval_s * 1_000_000
    return _from_us(_us(moment) // step_us * step_us)


def missing_runs(
    starts: Sequence[datetime], lo: datetime, hi: datetime, interval_s: int
) -> list[MissingRun]:
    """Runs of interval starts in ``[lo, hi)`` that no start in ``starts`` occupies (see
    :func:`aether.marketdata.history_holes.missing_runs`: bounds rounded up to the grid, a
    start off it occupies its interval)."""
    us = 1_000_000
    runs = history_holes.missing_runs(
        (_us(start) // us for start in starts),
        interval_s,
        -(-_us(lo) // us),
        -(-_us(hi) // us),
    )
    return [MissingRun(_from_us(r.start * us), _from_us(r.end * us), r.missing) for r in runs]


async def _recorded_gaps(
    session: AsyncSession, symbol: str, kinds: Sequence[str], span: Span
) -> tuple[list[RecordedGap], bool]:
    gap = MarketGapRow
    conditions: list[ColumnElement[bool]] = [gap.symbol == symbol, gap.kind.in_(kinds)]
    if span.end is not None:
        conditions.append(gap.start < span.end)
    if span.start is not None:
        conditions.append(or_(gap.end_at.is_(None), gap.end_at > span.start))
    rows = (
        await session.scalars(
            select(gap).where(*conditions).order_by(gap.start, gap.id).limit(MAX_RECORDED_GAPS + 1)
        )
    ).all()
    found = [RecordedGap(r.kind, r.start, r.end_at, r.reason, r.source) for r in rows]
    return found[:MAX_RECORDED_GAPS], len(found) > MAX_RECORDED_GAPS


def _candle_select(
    query: CandleQuery, source: str, rank: int, after: datetime | None
) -> Select[datetime, Decimal, Decimal, Decimal, Decimal, Decimal, int, str, int]:
    """One source's candles in the window, in start order (served by the primary key)."""
    c = CandleRow
    conditions = [c.symbol == query.symbol, c.interval_s == query.interval_s, c.source == source]
    if after is not None:
        conditions.append(c.start > after)
    if query.start is not None:
        conditions.append(c.start >= query.start)
    if query.end is not None:
        conditions.append(c.start < query.end)
    columns = (c.start, c.open, c.high, c.low, c.close, c.volume, c.trades, c.source)
    return (
        select(*columns, literal(rank).label("rank"))
        .where(and_(*conditions))
        .order_by(c.start)
        .limit(query.limit + 1)
    )


def _candle(query: CandleQuery, row: Row[Any]) -> CandleRecord:
    """A stored candle of the query's pair and interval (stored starts are whole seconds)."""
    start_s = datetime_to_ns(row.start) // _NS
    bar = Bar(
        query.symbol, start_s, query.interval_s, row.open, row.high, row.low, row.close,
        row.volume, row.trades,
    )  # fmt: skip
    # The table holds only the sources of CandleSource (every writer is typed with it).
    return CandleRecord(bar, cast(CandleSource, row.source))


async def candles(session: AsyncSession, query: CandleQuery) -> CandlePage:
    """One page of candles with its missing intervals and recorded gaps.

    Raises HistoryQueryError naming the parameter (symbol, interval, source, start, limit,
    cursor). Pass ``next_cursor`` back with the same query for the following page.
    """
    check_symbol(query.symbol)
    check_range(query.start, query.end, query.limit)
    if not 0 < query.interval_s <= MAX_INTERVAL_S:
        raise HistoryQueryError("interval", f"must be 1 s to {MAX_INTERVAL_S} s (15 days)")
    if query.source is not None and query.source not in CANDLE_SOURCES:
        raise HistoryQueryError("source", f"must be one of {', '.join(SOURCE_PRIORITY)}")
    head = ("candles", query.symbol, query.interval_s, query.source or "*")
    after = None
    if query.cursor is not None:
        (after_us,) = _decode(query.cursor, head, 1)
        after = _from_us(after_us)
    sources = [query.source] if query.source else list(SOURCE_PRIORITY)
    # Each source's first limit+1 rows hold every row of the first limit+1 distinct starts,
    # so picking per start among them is exact, and each branch is a primary-key range scan.
    branches = union_all(
        *(_candle_select(query, s, SOURCE_PRIORITY.index(s), after) for s in sources)
    ).subquery()
    best = (
        select(branches)
        .ext(distinct_on(branches.c.start))
        .order_by(branches.c.start, branches.c.rank)
        .limit(query.limit + 1)
    )
    rows = (await session.execute(best)).all()
    more = len(rows) > query.limit
    page = [_candle(query, r) for r in rows[: query.limit]]
    step = timedelta(seconds=query.interval_s)
    # Consecutive pages' spans meet at an interval start: [.., last + step), [last + step, ..).
    lower = _latest(
        query.start, _align_down(after, query.interval_s) + step if after is not None else None
    )
    if more:
        upper: datetime | None = _align_down(candle_start(page[-1]), query.interval_s) + step
    else:
        upper = query.end
    span = Span(lower, upper)
    # Open bounds are checked only as far as stored candles reach: nothing says what "now" is.
    starts = [candle_start(c) for c in page]
    check_lo = lower if lower is not None else (starts[0] if page else None)
    check_hi = upper if upper is not None else (starts[-1] + step if page else None)
    missing = []
    if check_lo is not None and check_hi is not None and check_lo < check_hi:
        missing = missing_runs(starts, check_lo, check_hi, query.interval_s)
    recorded, truncated = await _recorded_gaps(session, query.symbol, CANDLE_GAP_KINDS, span)
    cursor = encode_cursor(*head, _us(starts[-1])) if more else None
    return CandlePage(page, span, missing, recorded, truncated, cursor)


async def trades(session: AsyncSession, query: TradeQuery) -> TradePage:
    """One page of trades in (ts, trade_id) order with the recorded trade gaps of its span.

    Raises HistoryQueryError naming the parameter (symbol, start, limit, cursor).
    """
    check_symbol(query.symbol)
    check_range(query.start, query.end, query.limit)
    t = MarketTradeRow
    conditions: list[ColumnElement[bool]] = [t.symbol == query.symbol]
    lower = query.start
    if query.cursor is not None:
        after_us, after_id = _decode(query.cursor, ("trades", query.symbol), 2)
        after = _from_us(after_us)
        lower = _latest(lower, after)
        position = tuple_(literal(after, t.ts.type), literal(after_id, t.trade_id.type))
        conditions.append(tuple_(t.ts, t.trade_id) > position)
    if query.start is not None:
        conditions.append(t.ts >= query.start)
    if query.end is not None:
        conditions.append(t.ts < query.end)
    columns = (t.trade_id, t.ts, t.price, t.quantity, t.side, t.source)
    statement = (
        select(*columns).where(*conditions).order_by(t.ts, t.trade_id).limit(query.limit + 1)
    )
    rows = (await session.execute(statement)).all()
    more = len(rows) > query.limit
    page = [
        Trade(r.trade_id, r.ts, r.price, r.quantity, r.side, r.source) for r in rows[: query.limit]
    ]
    # A full page answers up to its last print (inclusive); the next one goes on from there.
    span = Span(lower, page[-1].ts + _US if more else query.end)
    recorded, truncated = await _recorded_gaps(session, query.symbol, TRADE_GAP_KINDS, span)
    cursor = None
    if more:
        cursor = encode_cursor("trades", query.symbol, _us(page[-1].ts), page[-1].trade_id)
    return TradePage(page, span, recorded, truncated, cursor)
