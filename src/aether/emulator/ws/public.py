"""The public channels of the emulator's WebSocket v2: ``ticker``, ``book``, ``trade``,
``ohlc`` and ``instrument``.

A subscription answers one acknowledgement per symbol, then (unless ``snapshot`` is false)
a ``snapshot``; :meth:`MarketFeed.publish` then sends ``update`` messages: ``book`` levels
that changed within the subscribed depth with the checksum of the top 10 after them,
the pair's new public trades on ``trade``, the ticker after trades (``event_trigger``
``trades``, the default) or after a best bid/offer change (``bbo``), and the OHLC candles
the new trades touched. ``instrument`` is a snapshot only (the pairs never change).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Protocol

from aether.domain.money import ZERO
from aether.emulator.exchange.orders import PublicTrade
from aether.emulator.kraken_format import PairInfo, asset_decimals
from aether.emulator.market.candles import INTERVALS, Candle
from aether.emulator.runtime import EmulatorRuntime
from aether.emulator.ws.book import DEPTHS, BookView, Side, checksum
from aether.emulator.ws.protocol import (
    ALREADY_SUBSCRIBED,
    Num,
    Symbols,
    WsError,
    num,
    rfc3339,
    v2_asset,
)

CENT = Decimal("0.01")

__all__ = ["PUBLIC_CHANNELS", "MarketFeed", "Subscriber"]

NS = 1_000_000_000
TRADE_SNAPSHOT = 50
BOOK_LEVELS = 500  # the most the exchange's depth gives; the maker quotes far fewer
PUBLIC_CHANNELS = ("ticker", "book", "trade", "ohlc", "instrument")


#: One symbol's answer to a subscribe: the symbol, the ack's result (or the error) and the
#: messages to send after the ack.
Answer = tuple[Any, dict[str, Any] | WsError, list[dict[str, Any]]]


class Subscriber(Protocol):
    """A connection as the feeds see it: its subscriptions and a non-blocking send."""

    subscriptions: dict[str, dict[str, Any]]

    def send(self, message: dict[str, Any]) -> None: ...


@dataclass(slots=True)
class OhlcView:
    interval: int
    since: int = 0  # start of the newest candle sent


@dataclass(slots=True)
class TickerView:
    bbo_only: bool
    bbo: tuple[Decimal, Decimal] | None = None


@dataclass(slots=True)
class _PairState:
    """One pair at one publish: new trades and (lazily, shared by every subscriber) the
    whole book, the prices on each side and the checksum of its top 10."""

    pair: PairInfo
    trades: list[PublicTrade]
    asks: Side | None = None
    bids: Side | None = None
    ask_prices: frozenset[Decimal] = frozenset()
    bid_prices: frozenset[Decimal] = frozenset()
    checksum: int | None = None


def _flag(params: dict[str, Any], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise WsError(f"EGeneral:Invalid arguments:{name}")
    return value


class MarketFeed:
    """Answers public subscriptions and publishes their updates."""

    def __init__(self, runtime: EmulatorRuntime, symbols: Symbols) -> None:
        self.runtime = runtime
        self.symbols = symbols

    # --- subscribe ----------------------------------------------------------------------

    def subscribe(self, conn: Subscriber, channel: str, params: dict[str, Any]) -> list[Answer]:
        """Register ``channel`` for each symbol of ``params``: one :data:`Answer` per symbol.
        Raises WsError when the request as a whole is invalid."""
        if channel == "instrument":
            snapshot = _flag(params, "snapshot", True)
            conn.subscriptions.setdefault("instrument", {})["*"] = True
            messages = [self.instrument_snapshot()] if snapshot else []
            return [(None, {"channel": "instrument", "snapshot": snapshot}, messages)]
        snapshot = _flag(params, "snapshot", True)
        view = self._view(channel, params)
        answers: list[Answer] = []
        for symbol in self._symbols(params):
            try:
                pair = self.symbols.pair(symbol)
                subs = conn.subscriptions.setdefault(channel, {})
                if pair.altname in subs:
                    raise WsError(ALREADY_SUBSCRIBED, symbol=symbol)
            except WsError as exc:
                answers.append((symbol, exc, []))
                continue
            fresh = self._fresh(view)
            subs[pair.altname] = fresh
            result: dict[str, Any] = {"channel": channel, "snapshot": snapshot, "symbol": symbol}
            if isinstance(fresh, BookView):
                result["depth"] = fresh.depth
            elif isinstance(fresh, OhlcView):
                result["interval"] = fresh.interval
            elif isinstance(fresh, TickerView):
                result["event_trigger"] = "bbo" if fresh.bbo_only else "trades"
            messages = [self._snapshot(channel, pair, fresh)] if snapshot else []
            if not snapshot:
                self._prime(pair, fresh)
            answers.append((symbol, result, messages))
        return answers

    def _symbols(self, params: dict[str, Any]) -> list[Any]:
        symbols = params.get("symbol")
        if not isinstance(symbols, list) or not symbols:
            raise WsError("EGeneral:Invalid arguments:symbol")
        return symbols

    def _view(self, channel: str, params: dict[str, Any]) -> object:
        if channel == "book":
            depth = params.get("depth", 10)
            if depth not in DEPTHS or isinstance(depth, bool):
                raise WsError("EGeneral:Invalid arguments:depth")
            return BookView(depth)
        if channel == "ohlc":
            interval = params.get("interval")
            if interval not in INTERVALS or isinstance(interval, bool):
                raise WsError("EGeneral:Invalid arguments:interval")
            return OhlcView(interval)
        if channel == "ticker":
            trigger = params.get("event_trigger", "trades")
            if trigger not in ("trades", "bbo"):
                raise WsError("EGeneral:Invalid arguments:event_trigger")
            return TickerView(trigger == "bbo")
        return True

    @staticmethod
    def _fresh(view: object) -> object:
        if isinstance(view, BookView):
            return BookView(view.depth)
        if isinstance(view, OhlcView):
            return OhlcView(view.interval)
        if isinstance(view, TickerView):
            return TickerView(view.bbo_only)
        return view

    # --- snapshots ----------------------------------------------------------------------

    def _book(self, pair: PairInfo) -> tuple[Side, Side]:
        depth = self.runtime.exchange.depth(pair.altname, BOOK_LEVELS)
        asks = [(level.price, level.volume) for level in depth.asks]
        bids = [(level.price, level.volume) for level in depth.bids]
        return asks, bids

    def _prime(self, pair: PairInfo, view: object) -> None:
        """Without a snapshot, updates start from the book as it is now."""
        if isinstance(view, BookView):
            view.snapshot(*self._book(pair))
        elif isinstance(view, OhlcView):
            rows = self.runtime.candles[pair.altname].rows(view.interval)
            view.since = rows[-1].start if rows else 0

    def _snapshot(self, channel: str, pair: PairInfo, view: object) -> dict[str, Any]:
        now = self.runtime.now_ns()
        data: list[dict[str, Any]]
        if isinstance(view, BookView):
            asks, bids = view.snapshot(*self._book(pair))
            check = checksum(asks, bids, pair.pair_decimals, pair.lot_decimals)
            data = [self._book_data(pair, asks, bids, check, None)]
        elif isinstance(view, OhlcView):
            rows = self.runtime.candles[pair.altname].rows(view.interval)
            view.since = rows[-1].start if rows else 0
            data = [self._candle(pair, c, view.interval, now) for c in rows]
        elif isinstance(view, TickerView):
            entry = self._ticker(pair)
            view.bbo = (entry["bid"], entry["ask"])
            data = [entry]
        else:
            trades, _ = self.runtime.exchange.recent_trades(pair.altname)
            data = [self._trade(pair, t) for t in trades[-TRADE_SNAPSHOT:]]
        return {"channel": channel, "type": "snapshot", "data": data}

    def instrument_snapshot(self) -> dict[str, Any]:
        pairs = list(self.symbols.by_symbol.items())
        assets = sorted({a for _, p in pairs for a in (p.base, p.quote)})
        return {
            "channel": "instrument",
            "type": "snapshot",
            "data": {
                "assets": [
                    {
                        "id": v2_asset(asset),
                        "status": "enabled",
                        "precision": asset_decimals(asset),
                        "precision_display": min(asset_decimals(asset), 5),
                        "borrowable": False,
                        "collateral_value": 0,
                        "margin_rate": 0,
                    }
                    for asset in assets
                ],
                "pairs": [self._instrument(symbol, pair) for symbol, pair in pairs],
            },
        }

    @staticmethod
    def _instrument(symbol: str, pair: PairInfo) -> dict[str, Any]:
        lots = pair.lot_decimals
        return {
            "symbol": symbol,
            "base": v2_asset(pair.base),
            "quote": v2_asset(pair.quote),
            "status": "online",
            "qty_precision": lots,
            "qty_increment": num(Decimal(1).scaleb(-lots), lots),
            "price_precision": pair.pair_decimals,
            "price_increment": num(pair.tick_size, pair.pair_decimals),
            "cost_precision": pair.cost_decimals,
            "cost_min": Num(f"{pair.costmin:f}"),
            "qty_min": Num(f"{pair.ordermin:f}"),
            "marginable": False,
            "has_index": True,
        }

    # --- message bodies -----------------------------------------------------------------

    def _book_data(
        self,
        pair: PairInfo,
        asks: Side,
        bids: Side,
        check: int,
        now: int | None,
    ) -> dict[str, Any]:
        """One ``book`` message's data; ``check`` is the checksum of the book's top 10,
        which an injected fault may corrupt (per message)."""
        p, q = pair.pair_decimals, pair.lot_decimals
        data: dict[str, Any] = {
            "symbol": self.symbols.symbol(pair.altname),
            "bids": [{"price": num(price, p), "qty": num(qty, q)} for price, qty in bids],
            "asks": [{"price": num(price, p), "qty": num(qty, q)} for price, qty in asks],
            "checksum": check,
        }
        if self.runtime.faults.take_checksum_corruption():
            # Fault injection: a wrong checksum the client must detect and recover from.
            data["checksum"] = (data["checksum"] + 1) & 0xFFFFFFFF
        if now is not None:
            data["timestamp"] = rfc3339(now)
        return data

    def _trade(self, pair: PairInfo, trade: PublicTrade) -> dict[str, Any]:
        return {
            "symbol": self.symbols.symbol(pair.altname),
            "side": trade.side.value,
            "price": num(trade.price, pair.pair_decimals),
            "qty": num(trade.volume, pair.lot_decimals),
            "ord_type": "market" if trade.ordertype.value == "market" else "limit",
            "trade_id": trade.trade_id,
            "timestamp": rfc3339(trade.time_ns),
        }

    def _candle(self, pair: PairInfo, c: Candle, interval: int, now: int) -> dict[str, Any]:
        p = pair.pair_decimals
        return {
            "symbol": self.symbols.symbol(pair.altname),
            "open": num(c.open, p),
            "high": num(c.high, p),
            "low": num(c.low, p),
            "close": num(c.close, p),
            "trades": c.count,
            "volume": num(c.volume, pair.lot_decimals),
            "vwap": num(c.vwap, p),
            "interval_begin": rfc3339(c.start * NS),
            "interval": interval,
            "timestamp": rfc3339(now),
        }

    def _ticker(self, pair: PairInfo) -> dict[str, Any]:
        p, q = pair.pair_decimals, pair.lot_decimals
        now_s = self.runtime.now_ns() // NS
        book = self.runtime.exchange.depth(pair.altname, 1)
        candles = self.runtime.candles[pair.altname]
        day = candles.stats(now_s - 86_400)
        last = self.runtime.exchange.last_price(pair.altname) or ZERO
        opening = candles.first_open(now_s - 86_400) or last
        change = last - opening
        pct = (change / opening * 100).quantize(CENT, ROUND_HALF_EVEN) if opening else ZERO
        bid = book.bids[0] if book.bids else None
        ask = book.asks[0] if book.asks else None
        return {
            "symbol": self.symbols.symbol(pair.altname),
            "bid": num(bid.price if bid else ZERO, p),
            "bid_qty": num(bid.volume if bid else ZERO, q),
            "ask": num(ask.price if ask else ZERO, p),
            "ask_qty": num(ask.volume if ask else ZERO, q),
            "last": num(last, p),
            "volume": num(day.volume, q),
            "vwap": num(day.vwap or last, p),
            "low": num(day.low or last, p),
            "high": num(day.high or last, p),
            "change": num(change, p),
            "change_pct": num(pct, 2),
        }

    # --- updates ------------------------------------------------------------------------

    def publish(self, connections: Iterable[Subscriber]) -> None:
        """Drain every pair's new public trades and send each subscriber its updates."""
        exchange = self.runtime.exchange
        states = {
            pair.altname: _PairState(pair, exchange.drain_public_trades(pair.altname))
            for pair in self.symbols.by_symbol.values()
        }
        now = self.runtime.now_ns()
        shared: dict[tuple[str, str], dict[str, Any]] = {}
        for conn in connections:
            subs = conn.subscriptions
            for altname, view in subs.get("book", {}).items():
                self._book_update(conn, states[altname], view, now)
            for altname in subs.get("trade", {}):
                state = states[altname]
                if state.trades:
                    key = ("trade", altname)
                    if key not in shared:
                        data = [self._trade(state.pair, t) for t in state.trades]
                        shared[key] = {"channel": "trade", "type": "update", "data": data}
                    conn.send(shared[key])
            for altname, view in subs.get("ticker", {}).items():
                self._ticker_update(conn, states[altname], view, shared)
            for altname, view in subs.get("ohlc", {}).items():
                state = states[altname]
                if state.trades:
                    rows = self.runtime.candles[altname].rows(view.interval, view.since - 1)
                    if rows:
                        view.since = rows[-1].start
                        data = [self._candle(state.pair, c, view.interval, now) for c in rows]
                        conn.send({"channel": "ohlc", "type": "update", "data": data})

    def _book_update(self, conn: Subscriber, state: _PairState, view: BookView, now: int) -> None:
        if state.asks is None or state.bids is None:
            state.asks, state.bids = self._book(state.pair)
            state.ask_prices = frozenset(price for price, _ in state.asks)
            state.bid_prices = frozenset(price for price, _ in state.bids)
        asks, bids = view.update(state.asks, state.bids, state.ask_prices, state.bid_prices)
        if not asks and not bids:
            return
        if state.checksum is None:
            pair = state.pair
            state.checksum = checksum(state.asks, state.bids, pair.pair_decimals, pair.lot_decimals)
        data = self._book_data(state.pair, asks, bids, state.checksum, now)
        conn.send({"channel": "book", "type": "update", "data": [data]})

    def _ticker_update(
        self,
        conn: Subscriber,
        state: _PairState,
        view: TickerView,
        shared: dict[tuple[str, str], dict[str, Any]],
    ) -> None:
        key = ("ticker", state.pair.altname)
        if key not in shared:
            shared[key] = self._ticker(state.pair)
        entry = shared[key]
        bbo = (entry["bid"], entry["ask"])
        changed = bbo != view.bbo
        view.bbo = bbo
        if state.trades if not view.bbo_only else changed:
            conn.send({"channel": "ticker", "type": "update", "data": [entry]})
