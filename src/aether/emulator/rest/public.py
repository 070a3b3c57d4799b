"""Kraken's public market-data REST methods (``/0/public/<Method>``), answered from the
emulator's exchange, its candles and its pair catalogue.

Each handler takes the runtime and the request's parameters and returns the ``result``
object, or raises :class:`~aether.emulator.exchange.errors.ExchangeError` with Kraken's string.
Numbers are strings with the pair's decimals wherever Kraken writes strings; times are
unix seconds (integers, or fractional where Kraken sends floats).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aether.domain.money import ZERO
from aether.emulator.exchange.book import DepthLevel
from aether.emulator.exchange.errors import UNKNOWN_ASSET_PAIR, ExchangeError, invalid_argument
from aether.emulator.exchange.orders import OrderType, Side
from aether.emulator.exchange.queries import MAX_TRADES_COUNT
from aether.emulator.kraken_format import (
    PairInfo,
    asset_code,
    asset_decimals,
    fmt,
    internal_asset,
    iso_time,
    seconds,
)
from aether.emulator.market.candles import INTERVALS
from aether.emulator.rest.protocol import Params, opt_int, opt_str, traded_pair
from aether.emulator.runtime import EmulatorRuntime

__all__ = ["PUBLIC_METHODS"]

NS = 1_000_000_000
UNKNOWN_ASSET = "EQuery:Unknown asset"
_SECONDS_BELOW = 10**12  # a ``since`` below this is unix seconds, above it nanoseconds
_DISPLAY_DECIMALS = {"USD": 2, "EUR": 2}

Handler = Callable[[EmulatorRuntime, Params], Any]


def _names(params: Params, name: str) -> list[str] | None:
    text = opt_str(params, name)
    if text is None or text == "":
        return None
    return [part.strip() for part in text.split(",")]


def time_(runtime: EmulatorRuntime, params: Params) -> dict[str, Any]:
    now = runtime.now_ns()
    moment = datetime.fromtimestamp(now // NS, UTC)
    return {"unixtime": now // NS, "rfc1123": moment.strftime("%a, %d %b %y %H:%M:%S +0000")}


def system_status(runtime: EmulatorRuntime, params: Params) -> dict[str, Any]:
    return {"status": "online", "timestamp": iso_time(runtime.now_ns())}


def assets(runtime: EmulatorRuntime, params: Params) -> dict[str, Any]:
    known = runtime.catalogue.assets()
    wanted = _names(params, "asset")
    if wanted is not None:
        picked = [internal_asset(name) for name in wanted]
        if any(asset not in known for asset in picked):
            raise ExchangeError(UNKNOWN_ASSET)
        known = list(dict.fromkeys(picked))
    result = {}
    for asset in known:
        code = asset_code(asset)
        result[code] = {
            "aclass": "currency",
            "altname": code if code.startswith("Z") else asset,
            "decimals": asset_decimals(asset),
            "display_decimals": _DISPLAY_DECIMALS.get(asset, 5),
            "status": "enabled",
        }
    return result


_INFO_FIELDS = {
    "fees": ("altname", "fees", "fees_maker", "fee_volume_currency"),
    "margin": ("altname", "margin_call", "margin_stop"),
    "leverage": ("altname", "leverage_buy", "leverage_sell"),
}


def asset_pairs(runtime: EmulatorRuntime, params: Params) -> dict[str, Any]:
    wanted = _names(params, "pair")
    pairs: list[PairInfo] = list(runtime.catalogue)
    if wanted is not None:
        found = [runtime.catalogue.find(name) for name in wanted]
        if any(pair is None for pair in found):
            raise ExchangeError(UNKNOWN_ASSET_PAIR)
        pairs = [pair for pair in found if pair is not None]
    info = opt_str(params, "info") or "info"
    if info != "info" and info not in _INFO_FIELDS:
        raise invalid_argument("info")
    result = {}
    for pair in pairs:
        entry = pair.as_kraken()
        if info != "info":
            entry = {name: entry[name] for name in _INFO_FIELDS[info]}
        result[pair.key] = entry
    return result


def _wanted_traded(runtime: EmulatorRuntime, params: Params) -> list[PairInfo]:
    wanted = _names(params, "pair")
    if wanted is None:
        return [pair for pair in runtime.catalogue if pair.tradable]
    return [traded_pair(runtime.catalogue, name) for name in wanted]


def _single(runtime: EmulatorRuntime, params: Params) -> PairInfo:
    name = opt_str(params, "pair")
    if name is not None and "," in name:
        raise ExchangeError(UNKNOWN_ASSET_PAIR)
    return traded_pair(runtime.catalogue, name)


def _top(levels: tuple[DepthLevel, ...], p: int) -> list[str]:
    """``[price, whole lot volume, lot volume]`` of the best level."""
    if not levels:
        return [fmt(ZERO, p), "0", fmt(ZERO, 3)]
    price, volume = levels[0].price, levels[0].volume
    return [fmt(price, p), str(max(1, int(volume))), fmt(volume, 3)]


def _ticker_entry(runtime: EmulatorRuntime, pair: PairInfo, now_s: int) -> dict[str, Any]:
    p, lots = pair.pair_decimals, pair.lot_decimals
    midnight = now_s - now_s % 86_400
    book = runtime.exchange.depth(pair.altname, 1)
    printed, _ = runtime.exchange.recent_trades(pair.altname, None, 1)
    candles = runtime.candles[pair.altname]
    today, day = candles.stats(midnight), candles.stats(now_s - 86_400)
    last = printed[-1] if printed else None
    last_price = last.price if last is not None else None
    opening = candles.first_open(midnight)

    def price(value: Decimal | None) -> str:
        return fmt(value if value is not None else ZERO, p)

    return {
        "a": _top(book.asks, p),
        "b": _top(book.bids, p),
        "c": [price(last_price), fmt(last.volume if last is not None else ZERO, lots)],
        "v": [fmt(today.volume, lots), fmt(day.volume, lots)],
        "p": [price(today.vwap), price(day.vwap)],
        "t": [today.count, day.count],
        "l": [price(today.low), price(day.low)],
        "h": [price(today.high), price(day.high)],
        "o": price(opening if opening is not None else last_price),
    }


def ticker(runtime: EmulatorRuntime, params: Params) -> dict[str, Any]:
    pairs = _wanted_traded(runtime, params)
    runtime.sync_candles()
    now_s = runtime.now_ns() // NS
    return {pair.key: _ticker_entry(runtime, pair, now_s) for pair in pairs}


def ohlc(runtime: EmulatorRuntime, params: Params) -> dict[str, Any]:
    pair = _single(runtime, params)
    interval = opt_int(params, "interval", low=1, high=21_600) or 1
    if interval not in INTERVALS:
        raise invalid_argument("interval")
    since = opt_int(params, "since", low=0)
    if since is not None and since >= _SECONDS_BELOW:
        since //= NS
    runtime.sync_candles()
    rows = runtime.candles[pair.altname].rows(interval, since)
    p, lots = pair.pair_decimals, pair.lot_decimals
    table = [
        [
            c.start,
            fmt(c.open, p),
            fmt(c.high, p),
            fmt(c.low, p),
            fmt(c.close, p),
            fmt(c.vwap, p),
            fmt(c.volume, lots),
            c.count,
        ]
        for c in rows
    ]
    # ``last``: the newest committed candle, to pass as ``since`` to poll for more.
    last = rows[-2].start if len(rows) >= 2 else (rows[-1].start if rows else since or 0)
    return {pair.key: table, "last": last}


def depth(runtime: EmulatorRuntime, params: Params) -> dict[str, Any]:
    pair = _single(runtime, params)
    count = opt_int(params, "count", low=0, high=500)
    book = runtime.exchange.depth(pair.altname, 100 if count is None or count == 0 else count)
    p, lots = pair.pair_decimals, pair.lot_decimals

    def rows(levels: tuple[Any, ...]) -> list[list[Any]]:
        return [[fmt(x.price, p), fmt(x.volume, lots), x.updated_ns // NS] for x in levels]

    return {pair.key: {"asks": rows(book.asks), "bids": rows(book.bids)}}


def trades(runtime: EmulatorRuntime, params: Params) -> dict[str, Any]:
    pair = _single(runtime, params)
    since = opt_int(params, "since", low=0)
    if since is not None and since < _SECONDS_BELOW:
        since *= NS
    count = opt_int(params, "count", low=1, high=MAX_TRADES_COUNT) or MAX_TRADES_COUNT
    printed, cursor = runtime.exchange.recent_trades(pair.altname, since, count)
    p, lots = pair.pair_decimals, pair.lot_decimals
    rows = [
        [
            fmt(t.price, p),
            fmt(t.volume, lots),
            seconds(t.time_ns),
            "b" if t.side is Side.BUY else "s",
            "m" if t.ordertype is OrderType.MARKET else "l",
            "",
            t.trade_id,
        ]
        for t in printed
    ]
    return {pair.key: rows, "last": str(cursor)}


PUBLIC_METHODS: dict[str, Handler] = {
    "Time": time_,
    "SystemStatus": system_status,
    "Assets": assets,
    "AssetPairs": asset_pairs,
    "Ticker": ticker,
    "OHLC": ohlc,
    "Depth": depth,
    "Trades": trades,
}
