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
- A pair may be typed in any spelling ``pair_names`` accepts (:func:`pair_symbol`); queries
  themselves take the altname.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final, get_args

from sqlalchemy import ColumnElement, Select, and_, literal, or_, select, tuple_, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from aether.bus.subjects import is_symbol
from aether.marketdata import gaps
from aether.marketdata.pair_names import UnknownPairError, canonical_pair
from aether.marketdata.records import CandleSource, datetime_to_ns, ns_to_datetime
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
#: Kraken's longest OHLC interval (15 days); longer ones cannot exist in storage.
MAX_INTERVAL_S: Final = 15 * 86_400
#: At most this many recorded gaps per page; more sets ``gaps_truncated``.
MAX_RECORDED_GAPS: Final = 1000

_UNIT_SECONDS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_INTERVAL = re.compile(r"^([0-9]{1,7})([smhdw]?)$")
_US = timedelta(microseconds=1)
_BIGINT_MAX: Final = 2**63 - 1
# Room for a page's span arithmetic (at most one 15-day interval) before datetime's end.
_MAX_CURSOR_US: Final = (datetime(9999, 12, 1, tzinfo=UTC) - ns_to_datetime(0)) // _US


class HistoryQueryError(ValueError):
    """A query parameter that cannot be served; ``parameter`` names it."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


def check_symbol(symbol: str) -> str:
    """The symbol if it is an upper-case REST altname (XBTUSD), else HistoryQueryError."""
    if not is_symbol(symbol):
        raise HistoryQueryError(
            "symbol", f"symbol {symbol!r} is not an upper-case altname such as XBTUSD"
        )
    return symbol


async def pair_symbol(session: AsyncSession, typed: str) -> str:
    """The altname of a typed pair name (``BTC/USD`` -> ``XBTUSD``), else HistoryQueryError
    naming what was typed (an unknown pair, or one not quoted in USD)."""
    try:
        return await canonical_pair(session, typed)
    except UnknownPairError as exc:
        raise HistoryQueryError("symbol", str(exc)) from None


def parse_interval(text: str) -> int:
    """Interval length in seconds from ``3600`` or ``<n><unit>`` (units s, m, h, d, w, so
    ``1m``, ``5m``, ``15m``, ``1h``, ``4h``, ``1d``); 1 s to 15 days."""
    match = _INTERVAL.match(text.strip().lower())
    if match is None:
        raise HistoryQueryError(
            "interval", f"{text!r} is not seconds (3600) or a length such as 1m, 5m, 1h, 4h, 1d"
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 0 < seconds <= MAX_INTERVAL_S:
        raise HistoryQueryError("interval", f"must be 1 s to {MAX_INTERVAL_S} s (15 days)")
    return seconds


# -- cursors -------------------------------------------------------------------------------


def _encode_cursor(*parts: object) -> str:
    raw = "|".join(["v1", *(str(p) for p in parts)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, expected_head: Sequence[object], positions: int) -> list[int]:
    """The integer positions after ``expected_head``; HistoryQueryError if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise HistoryQueryError("cursor", "not a cursor returned by this API") from exc
    parts = raw.split("|")
    head = ["v1", *(str(p) for p in expected_head)]
    digits = parts[len(head) :]
    if len(parts) != len(head) + positions or not all(p.isascii() and p.isdigit() for p in digits):
        raise HistoryQueryError("cursor", "not a cursor returned by this API")
    if parts[: len(head)] != head:
        raise HistoryQueryError(
            "cursor", "belongs to another query (symbol, interval or source differ)"
        )
    values = [int(p) for p in digits]
    # What the API writes: a time in microseconds first, then (trades) a bigint trade id.
    if values[0] > _MAX_CURSOR_US or any(v > _BIGINT_MAX for v in values):
        raise HistoryQueryError("cursor", "not a cursor returned by this API")
    return values


def _us(moment: datetime) -> int:
    return datetime_to_ns(moment) // 1000


def _from_us(us: int) -> datetime:
    return ns_to_datetime(us * 1000)


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
class Candle:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int
    source: str


@dataclass(frozen=True, slots=True)
class CandlePage:
    candles: list[Candle]
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


# -- queries -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CandleQuery:
    """Candles of ``symbol`` with ``start <= candle start < end`` (either bound optional)."""

    symbol: str
    interval_s: int
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 500
    source: str | None = None  # None: by SOURCE_PRIORITY
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class TradeQuery:
    """Trades of ``symbol`` with ``start <= ts < end`` (either bound optional)."""

    symbol: str
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 500
    cursor: str | None = None


def _check_range(start: datetime | None, end: datetime | None, limit: int) -> None:
    if start is not None and end is not None and start >= end:
        raise HistoryQueryError("start", "must be before end")
    if limit < 1:
        raise HistoryQueryError("limit", "must be at least 1")


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
    :func:`aether.marketdata.gaps.missing_runs`: bounds rounded up to the grid, a start off
    it occupies its interval)."""
    us = 1_000_000
    runs = gaps.missing_runs(
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
    gaps = [RecordedGap(r.kind, r.start, r.end_at, r.reason, r.source) for r in rows]
    return gaps[:MAX_RECORDED_GAPS], len(gaps) > MAX_RECORDED_GAPS


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


async def candles(session: AsyncSession, query: CandleQuery) -> CandlePage:
    """One page of candles with its missing intervals and recorded gaps.

    Raises HistoryQueryError naming the parameter (symbol, interval, source, start, limit,
    cursor). Pass ``next_cursor`` back with the same query for the following page.
    """
    check_symbol(query.symbol)
    _check_range(query.start, query.end, query.limit)
    if not 0 < query.interval_s <= MAX_INTERVAL_S:
        raise HistoryQueryError("interval", f"must be 1 s to {MAX_INTERVAL_S} s (15 days)")
    if query.source is not None and query.source not in CANDLE_SOURCES:
        raise HistoryQueryError("source", f"must be one of {', '.join(SOURCE_PRIORITY)}")
    head = ("candles", query.symbol, query.interval_s, query.source or "*")
    after = None
    if query.cursor is not None:
        (after_us,) = _decode_cursor(query.cursor, head, 1)
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
    page = [
        Candle(r.start, r.open, r.high, r.low, r.close, r.volume, r.trades, r.source)
        for r in rows[: query.limit]
    ]
    step = timedelta(seconds=query.interval_s)
    # Consecutive pages' spans meet at an interval start: [.., last + step), [last + step, ..).
    lower = _latest(
        query.start, _align_down(after, query.interval_s) + step if after is not None else None
    )
    if more:
        upper: datetime | None = _align_down(page[-1].start, query.interval_s) + step
    else:
        upper = query.end
    span = Span(lower, upper)
    # Open bounds are checked only as far as stored candles reach: nothing says what "now" is.
    check_lo = lower if lower is not None else (page[0].start if page else None)
    check_hi = upper if upper is not None else (page[-1].start + step if page else None)
    missing = []
    if check_lo is not None and check_hi is not None and check_lo < check_hi:
        missing = missing_runs([c.start for c in page], check_lo, check_hi, query.interval_s)
    gaps, truncated = await _recorded_gaps(session, query.symbol, CANDLE_GAP_KINDS, span)
    cursor = _encode_cursor(*head, _us(page[-1].start)) if more else None
    return CandlePage(page, span, missing, gaps, truncated, cursor)


async def trades(session: AsyncSession, query: TradeQuery) -> TradePage:
    """One page of trades in (ts, trade_id) order with the recorded trade gaps of its span.

    Raises HistoryQueryError naming the parameter (symbol, start, limit, cursor).
    """
    check_symbol(query.symbol)
    _check_range(query.start, query.end, query.limit)
    t = MarketTradeRow
    conditions: list[ColumnElement[bool]] = [t.symbol == query.symbol]
    lower = query.start
    if query.cursor is not None:
        after_us, after_id = _decode_cursor(query.cursor, ("trades", query.symbol), 2)
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
    gaps, truncated = await _recorded_gaps(session, query.symbol, TRADE_GAP_KINDS, span)
    cursor = None
    if more:
        cursor = _encode_cursor("trades", query.symbol, _us(page[-1].ts), page[-1].trade_id)
    return TradePage(page, span, gaps, truncated, cursor)
