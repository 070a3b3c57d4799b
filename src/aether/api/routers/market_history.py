"""/api/v1/market/{symbol}: stored candles and trades, paginated, with the holes visible."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from aether.api.deps import KeyCheckedRoute, Reader, Session
from aether.api.errors import ApiError, error_responses
from aether.api.types import CodeText, CursorText, PairText, Timestamp
from aether.marketdata import history_query as history
from aether.marketdata import history_request
from aether.marketdata.records import CandleRecord, CandleSource

# 404: a path no route matches, e.g. a pair holding a line break.
router = APIRouter(
    prefix="/market",
    tags=["market"],
    responses=error_responses(403, 404, 422),
    route_class=KeyCheckedRoute,
)

MAX_LIMIT = 5000
DEFAULT_LIMIT = 500


SymbolPath = Annotated[
    PairText,
    Path(
        description="A Kraken spot USD pair: XBTUSD, BTC/USD (URL-encoded BTC%2FUSD), XBT/USD, "
        "XXBTZUSD, case ignored; answers name the altname (XBTUSD)",
        max_length=32,
    ),
]
StartQuery = Annotated[
    Timestamp | None,
    Query(description="Inclusive lower bound: ISO 8601 with a zone, or epoch seconds"),
]
EndQuery = Annotated[
    Timestamp | None,
    Query(description="Exclusive upper bound: ISO 8601 with a zone, or epoch seconds"),
]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page")]
CursorQuery = Annotated[
    CursorText | None,
    Query(max_length=200, description="`next_cursor` of the previous page, same query"),
]


# The page parts are the query module's own dataclasses: pydantic serialises them as they
# are (datetimes as ISO 8601, Decimals as strings). A candle is the domain's Bar with its
# source; its wire shape names only what the page does not already say (symbol, interval).


class Candle(BaseModel):
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int
    source: str

    @classmethod
    def of(cls, candle: CandleRecord) -> Candle:
        bar = candle.bar
        return cls(
            start=history.candle_start(candle), open=bar.open, high=bar.high, low=bar.low,
            close=bar.close, volume=bar.volume, trades=bar.trades, source=candle.source,
        )  # fmt: skip


class CandlesOut(BaseModel):
    symbol: str
    interval_s: int
    source: CandleSource | None = Field(description="null: one candle per interval by priority")
    span: history.Span = Field(description="[start, end); an end is null when it was open")
    candles: list[Candle]
    missing: list[history.MissingRun] = Field(
        description="Intervals in the span with no stored candle"
    )
    recorded_gaps: list[history.RecordedGap]
    gaps_truncated: bool = Field(description=f"more than {history.MAX_RECORDED_GAPS} gaps")
    next_cursor: str | None


class TradesOut(BaseModel):
    symbol: str
    span: history.Span
    trades: list[history.Trade]
    recorded_gaps: list[history.RecordedGap]
    gaps_truncated: bool
    next_cursor: str | None


def _invalid(error: history_request.HistoryQueryError) -> ApiError:
    location = "path" if error.parameter == "symbol" else "query"
    field = f"{location}.{error.parameter}"
    return ApiError(
        422,
        "validation_error",
        f"invalid request: {field}: {error.message}",
        fields=[{"field": field, "message": error.message}],
    )


@router.get(
    "/{symbol:path}/candles",
    summary="Stored candles of a pair, oldest first, with missing intervals and gaps",
    description="`interval`: seconds (`3600`) or `<n><unit>` with unit s, m, h, d, w "
    "(`1m`, `5m`, `15m`, `1h`, `4h`, `1d`), at most 15 days. Candles with "
    "`start <= candle start < end`. Without `source`, one candle per interval by priority "
    "kraken-ws, kraken-ohlc, kraken-csv, trades (each names its source); with it, only "
    "that source. `missing` lists the interval starts of the page's span with no candle "
    "(nothing is filled in; an open `start`/`end` is checked only as far as stored candles "
    "reach); `recorded_gaps` lists known outages (kinds candle, ohlc, trade) overlapping the "
    "span. A known pair with no stored data returns an empty page; an unknown or non-USD "
    "pair is a 422 naming it. Page with `next_cursor`.",
)
async def get_candles(
    reader: Reader,
    session: Session,
    symbol: SymbolPath,
    interval: Annotated[CodeText, Query(description="3600, 1m, 5m, 15m, 1h, 4h, 1d")],
    start: StartQuery = None,
    end: EndQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    source: CandleSource | None = None,
) -> CandlesOut:
    try:
        query = history_request.CandleQuery(
            symbol=await history_request.pair_symbol(session, symbol),
            interval_s=history_request.parse_interval(interval),
            start=start,
            end=end,
            limit=limit,
            source=source,
            cursor=cursor,
        )
        page = await history.candles(session, query)
    except history_request.HistoryQueryError as exc:
        raise _invalid(exc) from exc
    return CandlesOut(
        symbol=query.symbol,
        interval_s=query.interval_s,
        source=source,
        span=page.span,
        candles=[Candle.of(c) for c in page.candles],
        missing=page.missing,
        recorded_gaps=page.recorded_gaps,
        gaps_truncated=page.gaps_truncated,
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{symbol:path}/trades",
    summary="Stored trade prints of a pair in (time, trade id) order, with recorded gaps",
    description="Trades with `start <= ts < end`. `recorded_gaps` lists known trade outages "
    "overlapping the page's span. A known pair with no stored data returns an empty page; "
    "an unknown or non-USD pair is a 422 naming it. "
    "Page with `next_cursor`.",
)
async def get_trades(
    reader: Reader,
    session: Session,
    symbol: SymbolPath,
    start: StartQuery = None,
    end: EndQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> TradesOut:
    try:
        query = history_request.TradeQuery(
            symbol=await history_request.pair_symbol(session, symbol),
            start=start,
            end=end,
            limit=limit,
            cursor=cursor,
        )
        page = await history.trades(session, query)
    except history_request.HistoryQueryError as exc:
        raise _invalid(exc) from exc
    return TradesOut(
        symbol=query.symbol,
        span=page.span,
        trades=page.trades,
        recorded_gaps=page.recorded_gaps,
        gaps_truncated=page.gaps_truncated,
        next_cursor=page.next_cursor,
    )
