"""The JSON payloads of market data on the bus (``md.kraken.<SYMBOL>.<kind>``).

One shape per kind; every payload carries ``symbol`` (the REST altname, ``XBTUSD``),
``kind``, ``ts_ns`` (the exchange's time of the event, or the receive time where Kraken
gives none: ticker, ohlc) and ``recv_ns`` (when the ingest received it), so a consumer can
measure its lag. Prices and quantities are decimal strings exactly as the venue printed
them (never floats, never exponent notation)::

    trade  {"price", "qty", "side", "trade_id"}
    book   {"bids": [[price, qty], ...] best first, "asks": [[price, qty], ...] best first}
    ticker {"bid", "bid_qty", "ask", "ask_qty", "last"}
    ohlc   {"start" (epoch s), "interval" (s), "open", "high", "low", "close", "volume",
            "trades"}
    status {"state": "stale" | "fresh" | "gap", "reason", ...}
           stale: "last_data_ns" (0: never had data); gap: "channel", "start_ns", "end_ns"

``decode`` refuses anything else with :class:`WireError` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import orjson

from aether.domain.bars import Bar
from aether.domain.events import (
    BookLevel,
    BookSnapshot,
    MarketDataFresh,
    MarketDataStale,
    MarketDataStatus,
    Quote,
    Tick,
)
from aether.domain.money import InvalidValueError, as_decimal

__all__ = [
    "MarketGapNotice",
    "WireError",
    "WireMessage",
    "decode",
    "encode_book",
    "encode_gap",
    "encode_ohlc",
    "encode_status",
    "encode_ticker",
    "encode_trade",
]


class WireError(ValueError):
    """A payload that is not one of the market-data shapes."""


@dataclass(frozen=True, slots=True)
class MarketGapNotice:
    """Data of ``symbol``'s ``channel`` known to be missing from ``start_ns`` (to ``end_ns``,
    None while it lasts), and why."""

    symbol: str
    channel: str
    reason: str
    start_ns: int
    end_ns: int | None


WireEvent = Tick | BookSnapshot | Quote | Bar | MarketDataStatus | MarketGapNotice


@dataclass(frozen=True, slots=True)
class WireMessage:
    """A decoded payload: the domain event (its ``symbol`` is the altname) and the times."""

    kind: str
    symbol: str
    ts_ns: int
    recv_ns: int
    event: WireEvent


def _text(value: Decimal) -> str:
    """A Decimal as plain digits: ``str`` unless it would use exponent notation."""
    text = str(value)
    if "E" in text:
        return format(value, "f")
    return text


def encode_trade(symbol: str, tick: Tick, recv_ns: int) -> bytes:
    """A ``trade`` payload; ``symbol`` is the altname (the tick carries the v2 name)."""
    return orjson.dumps(
        {
            "symbol": symbol,
            "kind": "trade",
            "ts_ns": tick.ts_ns,
            "recv_ns": recv_ns,
            "price": _text(tick.price),
            "qty": _text(tick.quantity),
            "side": tick.side,
            "trade_id": tick.trade_id,
        }
    )


def encode_book(symbol: str, book: BookSnapshot, recv_ns: int) -> bytes:
    """A ``book`` payload with every level of the snapshot (the subscribed depth)."""
    return orjson.dumps(
        {
            "symbol": symbol,
            "kind": "book",
            "ts_ns": book.ts_ns,
            "recv_ns": recv_ns,
            "bids": [[_text(level.price), _text(level.quantity)] for level in book.bids],
            "asks": [[_text(level.price), _text(level.quantity)] for level in book.asks],
        }
    )


def encode_ticker(symbol: str, quote: Quote, recv_ns: int) -> bytes:
    return orjson.dumps(
        {
            "symbol": symbol,
            "kind": "ticker",
            "ts_ns": quote.ts_ns,
            "recv_ns": recv_ns,
            "bid": _text(quote.bid),
            "bid_qty": _text(quote.bid_qty),
            "ask": _text(quote.ask),
            "ask_qty": _text(quote.ask_qty),
            "last": _text(quote.last),
        }
    )


def encode_ohlc(symbol: str, bar: Bar, recv_ns: int) -> bytes:
    """An ``ohlc`` payload: the candle so far (the last of an interval is the final one)."""
    return orjson.dumps(
        {
            "symbol": symbol,
            "kind": "ohlc",
            "ts_ns": recv_ns,
            "recv_ns": recv_ns,
            "start": bar.start,
            "interval": bar.interval,
            "open": _text(bar.open),
            "high": _text(bar.high),
            "low": _text(bar.low),
            "close": _text(bar.close),
            "volume": _text(bar.volume),
            "trades": bar.trades,
        }
    )


def encode_status(event: MarketDataStatus, reason: str = "") -> bytes:
    """A ``status`` payload for a stale or fresh transition (symbol: the altname)."""
    payload: dict[str, Any] = {
        "symbol": event.symbol,
        "kind": "status",
        "ts_ns": event.ts_ns,
        "recv_ns": event.ts_ns,
        "reason": reason,
    }
    if isinstance(event, MarketDataStale):
        payload["state"] = "stale"
        payload["last_data_ns"] = event.last_data_ns
    else:
        payload["state"] = "fresh"
    return orjson.dumps(payload)


def encode_gap(gap: MarketGapNotice, now_ns: int) -> bytes:
    """A ``status`` payload announcing a gap (published when it is detected or closed)."""
    return orjson.dumps(
        {
            "symbol": gap.symbol,
            "kind": "status",
            "ts_ns": now_ns,
            "recv_ns": now_ns,
            "state": "gap",
            "reason": gap.reason,
            "channel": gap.channel,
            "start_ns": gap.start_ns,
            "end_ns": gap.end_ns,
        }
    )


# --- decoding ------------------------------------------------------------------------------


def _field(payload: dict[str, Any], name: str) -> Any:
    try:
        return payload[name]
    except KeyError:
        kind = payload.get("kind", "?")
        raise WireError(f"{kind} payload has no {name!r}") from None


def _decimal(payload: dict[str, Any], name: str) -> Decimal:
    value = _field(payload, name)
    if not isinstance(value, str):
        raise WireError(f"{name!r} must be a decimal string, got {type(value).__name__}")
    try:
        return as_decimal(value, name)
    except InvalidValueError as exc:
        raise WireError(f"{name!r}: {exc}") from None


def _int(payload: dict[str, Any], name: str, *, optional: bool = False) -> Any:
    value = payload.get(name) if optional else _field(payload, name)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise WireError(f"{name!r} must be an integer, got {value!r}")
    return value


def _levels(payload: dict[str, Any], name: str) -> tuple[BookLevel, ...]:
    raw = _field(payload, name)
    if not isinstance(raw, list):
        raise WireError(f"{name!r} must be a list of [price, qty]")
    levels = []
    for index, level in enumerate(raw):
        if not isinstance(level, list) or len(level) != 2:
            raise WireError(f"{name}[{index}] must be [price, qty]")
        pair = {"price": level[0], "qty": level[1]}
        try:
            levels.append(BookLevel(_decimal(pair, "price"), _decimal(pair, "qty")))
        except WireError as exc:
            raise WireError(f"{name}[{index}]: {exc}") from None
    return tuple(levels)


def _event(kind: str, symbol: str, ts: int, p: dict[str, Any]) -> WireEvent:
    if kind == "trade":
        side: Literal["buy", "sell"] | None = p.get("side")
        if side not in ("buy", "sell", None):
            raise WireError(f"'side' must be buy or sell, got {side!r}")
        trade_id = _int(p, "trade_id", optional=True)
        return Tick(symbol, _decimal(p, "price"), _decimal(p, "qty"), ts, trade_id, side)
    if kind == "book":
        return BookSnapshot(symbol, _levels(p, "bids"), _levels(p, "asks"), ts)
    if kind == "ticker":
        bid, bid_qty, ask, ask_qty, last = (
            _decimal(p, n) for n in ("bid", "bid_qty", "ask", "ask_qty", "last")
        )
        return Quote(symbol, bid, bid_qty, ask, ask_qty, last, ts)
    if kind == "ohlc":
        o, h, low, c, v = (_decimal(p, n) for n in ("open", "high", "low", "close", "volume"))
        return Bar(
            symbol, _int(p, "start"), _int(p, "interval"), o, h, low, c, v, _int(p, "trades")
        )
    if kind == "status":
        state = _field(p, "state")
        if state == "stale":
            return MarketDataStale(symbol, _int(p, "last_data_ns"), ts)
        if state == "fresh":
            return MarketDataFresh(symbol, ts)
        if state == "gap":
            reason, channel = _field(p, "reason"), _field(p, "channel")
            if not isinstance(reason, str) or not isinstance(channel, str):
                raise WireError("gap 'reason' and 'channel' must be strings")
            end = _int(p, "end_ns", optional=True)
            return MarketGapNotice(symbol, channel, reason, _int(p, "start_ns"), end)
        raise WireError(f"status 'state' must be stale, fresh or gap, got {state!r}")
    raise WireError(f"'kind' must be trade, book, ticker, ohlc or status, got {kind!r}")


def decode(data: bytes | str) -> WireMessage:
    """A payload back into its domain event; raises WireError naming the bad field."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise WireError(f"not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WireError("a payload must be a JSON object")
    kind, symbol = _field(payload, "kind"), _field(payload, "symbol")
    if not isinstance(kind, str) or not isinstance(symbol, str):
        raise WireError("'kind' and 'symbol' must be strings")
    ts, recv = _int(payload, "ts_ns"), _int(payload, "recv_ns")
    return WireMessage(kind, symbol, ts, recv, _event(kind, symbol, ts, payload))
