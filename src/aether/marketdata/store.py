"""Market data into PostgreSQL in batches: ``COPY`` into a temporary table, then one
``INSERT ... ON CONFLICT`` into the real one. Idempotent: writing the same rows twice adds
nothing. Every function runs in the caller's connection inside its own transaction and
returns how many rows it added (candles: added or changed), so imports can report it.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from aether.marketdata.records import (
    CandleRecord,
    GapRecord,
    ReferencePrice,
    TradeRecord,
    ns_to_datetime,
)

_TRADE_COLUMNS = ("symbol", "trade_id", "ts", "price", "quantity", "side", "source")
_CANDLE_COLUMNS = (
    "symbol",
    "interval_s",
    "source",
    "start",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "trades",
)
_GAP_COLUMNS = ("symbol", "kind", "start", "end_at", "reason", "source")
_REFERENCE_COLUMNS = ("source", "coin", "ts", "price_usd", "market_cap_usd", "volume_usd")


async def _staged(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[str],
    records: Sequence[tuple[object, ...]],
    merge: str,
    stage_columns: str | None = None,
) -> int:
    """COPY ``records`` into a temporary stage table, run ``merge``; rows it touched.

    The stage is a copy of ``table`` unless ``stage_columns`` defines it (then ``merge``
    converts its columns)."""
    stage = f"_stage_{table}"
    shape = (
        f"({stage_columns})"
        if stage_columns
        else f"(LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)"
    )
    async with conn.transaction():
        await conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} {shape} ON COMMIT DELETE ROWS")
        await conn.copy_records_to_table(stage, records=records, columns=list(columns))
        status: str = await conn.execute(merge.format(stage=stage))
    return int(status.rsplit(" ", 1)[-1])


#: The trade stage carries what is cheapest to send: asyncpg's binary encoding of Decimal
#: and datetime costs about 3x the rest of a row, while ``str(Decimal)`` is exact and
#: PostgreSQL parses numeric text as fast as it decodes binary. Measured with
#: benchmarks/bench_persistence.py (roughly twice the rows per second of a typed stage).
_TRADE_STAGE = (
    "symbol text, trade_id bigint, ts_us bigint, price text, quantity text, side text, source text"
)
_TRADE_STAGE_COLUMNS = ("symbol", "trade_id", "ts_us", "price", "quantity", "side", "source")


async def copy_trades(conn: asyncpg.Connection, trades: Sequence[TradeRecord]) -> int:
    """Store trade prints; a print already stored (same symbol and trade id) is skipped."""
    if not trades:
        return 0
    # Floor to microseconds in Python (as ns_to_datetime does); PostgreSQL adds it to the
    # epoch exactly (an interval times an integer below 2**53 is exact).
    rows = [
        (t.symbol, t.trade_id, t.ts_ns // 1000, str(t.price), str(t.quantity), t.side, t.source)
        for t in trades
    ]
    cols = ", ".join(_TRADE_COLUMNS)
    merge = (
        f"INSERT INTO market_trades ({cols}) "
        "SELECT symbol, trade_id, timestamptz 'epoch' + ts_us * interval '1 microsecond', "
        "price::numeric, quantity::numeric, side, source FROM {stage} "
        # DO NOTHING also skips a print repeated within the batch: no de-duplicating sort.
        "ON CONFLICT (symbol, trade_id) DO NOTHING"
    )
    return await _staged(
        conn, "market_trades", _TRADE_STAGE_COLUMNS, rows, merge, stage_columns=_TRADE_STAGE
    )


def _candle_row(candle: CandleRecord) -> tuple[object, ...]:
    bar = candle.bar
    return (
        bar.symbol, bar.interval, candle.source, ns_to_datetime(bar.start * 1_000_000_000),
        bar.open, bar.high, bar.low, bar.close, bar.volume, bar.trades,
    )  # fmt: skip


async def upsert_candles(conn: asyncpg.Connection, candles: Sequence[CandleRecord]) -> int:
    """Store candles; a candle of the same symbol, interval, source and start is replaced
    when its values differ (a WebSocket candle grows until its interval ends)."""
    if not candles:
        return 0
    rows = [_candle_row(c) for c in candles]
    cols = ", ".join(_CANDLE_COLUMNS)
    values = ("open", "high", "low", "close", "volume", "trades")
    merge = (
        f"INSERT INTO candles ({cols}) "
        # The last row wins when one batch carries the same candle twice.
        f"SELECT DISTINCT ON (symbol, interval_s, source, start) {cols} "
        "FROM (SELECT *, row_number() OVER () AS n FROM {stage}) s "
        "ORDER BY symbol, interval_s, source, start, n DESC "
        "ON CONFLICT (symbol, interval_s, source, start) DO UPDATE SET "
        + ", ".join(f"{v} = excluded.{v}" for v in values)
        + " WHERE ("
        + ", ".join(f"candles.{v}" for v in values)
        + ") IS DISTINCT FROM ("
        + ", ".join(f"excluded.{v}" for v in values)
        + ")"
    )
    return await _staged(conn, "candles", _CANDLE_COLUMNS, rows, merge)


async def record_gaps(conn: asyncpg.Connection, gaps: Sequence[GapRecord]) -> int:
    """Store gaps; the same gap (symbol, start, kind, source) recorded again is skipped,
    except that an open gap gets its end once it is known."""
    if not gaps:
        return 0
    rows = [
        (
            g.symbol,
            g.kind,
            ns_to_datetime(g.start_ns),
            None if g.end_ns is None else ns_to_datetime(g.end_ns),
            g.reason[:200],
            g.source,
        )
        for g in gaps
    ]
    cols = ", ".join(_GAP_COLUMNS)
    merge = (
        f"INSERT INTO market_gaps ({cols}) "
        f"SELECT DISTINCT ON (symbol, start, kind, source) {cols} FROM {{stage}} "
        "ORDER BY symbol, start, kind, source, end_at DESC NULLS LAST "
        "ON CONFLICT (symbol, start, kind, source) DO UPDATE SET end_at = excluded.end_at "
        "WHERE market_gaps.end_at IS NULL AND excluded.end_at IS NOT NULL"
    )
    return await _staged(conn, "market_gaps", _GAP_COLUMNS, rows, merge)


async def upsert_reference_prices(
    conn: asyncpg.Connection, prices: Sequence[ReferencePrice]
) -> int:
    """Store reference prices; a point already stored (source, coin, time) is skipped."""
    if not prices:
        return 0
    rows = [
        (p.source, p.coin, ns_to_datetime(p.ts_ns), p.price_usd, p.market_cap_usd, p.volume_usd)
        for p in prices
    ]
    cols = ", ".join(_REFERENCE_COLUMNS)
    merge = (
        f"INSERT INTO reference_prices ({cols}) "
        f"SELECT DISTINCT ON (source, coin, ts) {cols} FROM {{stage}} "
        "ON CONFLICT (source, coin, ts) DO NOTHING"
    )
    return await _staged(conn, "reference_prices", _REFERENCE_COLUMNS, rows, merge)
