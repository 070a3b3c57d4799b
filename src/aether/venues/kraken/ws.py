"""Kraken's WebSocket v2 market data: subscriptions, verified books, reconnects, staleness.

Rules a caller must know:

* ``KrakenMarketStream.events()`` yields domain events (``Tick`` for trades, ``BookSnapshot``
  after every applied book message) and stream events (``StreamGap``, ``StreamStale``,
  ``StreamRecovered``); it never ends on its own and reconnects on any connection loss.
* The ``instrument`` channel is subscribed first: its price and quantity precisions format
  the book checksum. Every book message's checksum is verified; on a mismatch the pair's
  book is dropped, a ``StreamGap`` is recorded and the book is resubscribed (a fresh
  snapshot rebuilds it).
* A lost connection is a ``StreamGap`` for every subscription; after reconnecting, every
  subscription is made again with a snapshot.
* Channels are per symbol: ``add(symbol, kinds)`` and ``remove(symbol)`` change one pair
  while connected by sending subscribe/unsubscribe for that pair and channel only (never a
  full reload); what is current when a connection opens is what gets subscribed.
* With ``ticker=True`` each ticker update is a ``Quote``; with ``ohlc_minutes`` each candle
  update is a ``Bar`` (the candle so far: the last one of an interval is the final one).
* No message for ``stale_after`` seconds (Kraken sends a heartbeat about every second) is a
  ``StreamStale`` event that the engine can act on; the next message is ``StreamRecovered``.

Symbols are the v2 names (``BTC/USD``); see ``symbols`` for the altname mapping.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import websockets

from aether.domain.bars import Bar
from aether.domain.events import BookSnapshot, Quote, Tick
from aether.venues.kraken.book import BookError, LocalBook
from aether.venues.kraken.timestamps import rfc3339_ns
from aether.venues.kraken.ws_receive import (
    EVENTS_KEPT,
    NS,
    StreamGap,
    StreamRecovered,
    StreamStale,
    receive,
)

#: Numbers stay the JSON text: the book checksum needs the digits as sent, a level that is
#: only removed never becomes a Decimal, and every money field is made a Decimal from the
#: text (exact). One decoder, built once (``json.loads`` with options builds one per call).
_EXACT_JSON = json.JSONDecoder(parse_float=str, parse_int=str)


StreamEvent = Tick | BookSnapshot | Quote | Bar | StreamGap | StreamStale | StreamRecovered

#: The public channels a symbol can be subscribed to, in the order they are subscribed.
CHANNELS: tuple[str, ...] = ("book", "trade", "ticker", "ohlc")


@dataclass(slots=True)
class _Pair:
    kinds: frozenset[str] = frozenset()
    book: LocalBook | None = None


@dataclass(slots=True)
class _State:
    pairs: dict[str, _Pair] = field(default_factory=dict)
    #: the latest gaps (bounded: a long-running stream must not grow without end)
    gaps: deque[StreamGap] = field(default_factory=lambda: deque(maxlen=EVENTS_KEPT))
    #: price and quantity precisions of every pair the instrument channel named, so a pair
    #: added later can verify its book without waiting for a new instrument snapshot.
    precisions: dict[str, tuple[int, int]] = field(default_factory=dict)


def _ns(stamp: str | None, fallback: int) -> int:
    return rfc3339_ns(stamp) if stamp else fallback


class KrakenMarketStream:
    """Public market data for ``symbols`` over one WebSocket v2 connection at a time."""

    def __init__(
        self,
        url: str,
        symbols: Sequence[str],
        *,
        depth: int = 10,
        trades: bool = True,
        ticker: bool = False,
        ohlc_minutes: int | None = None,
        stale_after: float = 5.0,
        reconnect_delay: float = 0.5,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        if depth not in (10, 25, 100, 500, 1000):
            raise ValueError(f"book depth must be 10, 25, 100, 500 or 1000, got {depth}")
        self.url = url
        self.depth = depth
        self.trades = trades
        self.ticker = ticker
        self.ohlc_minutes = ohlc_minutes
        self.stale_after = stale_after
        self.reconnect_delay = reconnect_delay
        self.clock = clock
        flags = {"book": True, "trade": trades, "ticker": ticker, "ohlc": ohlc_minutes is not None}
        default = frozenset(kind for kind, wanted in flags.items() if wanted)
        self.state = _State({s: _Pair(default) for s in symbols})
        self.connections = 0
        #: The last requests sent (method, channel, symbols), newest last: what a pair
        #: change actually asked of the venue.
        self.requests: deque[dict[str, Any]] = deque(maxlen=1000)
        self._req_id = 0
        self._socket: Any = None
        # Serialises subscription requests: a live add must not interleave with the
        # resubscription of a fresh connection.
        self._subscribing = asyncio.Lock()

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols currently followed."""
        return tuple(self.state.pairs)

    def subscriptions(self) -> dict[str, frozenset[str]]:
        """Symbol -> its subscribed channels."""
        return {symbol: pair.kinds for symbol, pair in self.state.pairs.items()}

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._socket is not None

    async def add(self, symbol: str, kinds: Iterable[str]) -> None:
        """Follow ``symbol`` on exactly ``kinds`` (replacing its previous set): only the
        difference is subscribed or unsubscribed, and only for this symbol. Empty ``kinds``
        is ``remove``. Unknown channels raise ValueError."""
        wanted = frozenset(kinds)
        unknown = wanted - set(CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels {sorted(unknown)}; expected some of {CHANNELS}")
        if not wanted:
            await self.remove(symbol)
            return
        async with self._subscribing:
            pair = self.state.pairs.setdefault(symbol, _Pair())
            before = pair.kinds
            pair.kinds = wanted
            if "book" not in wanted:
                pair.book = None
            socket = self._socket
            if socket is None:
                return  # subscribed with everything else when the connection opens
            for kind in CHANNELS:
                if kind in before and kind not in wanted:
                    await self._send(socket, "unsubscribe", self._params(kind, [symbol], False))
            for kind in CHANNELS:
                if kind in wanted and kind not in before:
                    await self._send(socket, "subscribe", self._params(kind, [symbol], True))

    async def remove(self, symbol: str) -> None:
        """Stop following ``symbol``: unsubscribes its channels only; unknown is a no-op."""
        async with self._subscribing:
            pair = self.state.pairs.pop(symbol, None)
            socket = self._socket
            if pair is None or socket is None:
                return
            for kind in CHANNELS:
                if kind in pair.kinds:
                    await self._send(socket, "unsubscribe", self._params(kind, [symbol], False))

    @property
    def gaps(self) -> deque[StreamGap]:
        """The last ``EVENTS_KEPT`` gaps recorded, oldest first (the events carry them too)."""
        return self.state.gaps

    async def close(self) -> None:
        """Close the current connection (``events`` then reconnects; cancel it to stop)."""
        if self._socket is not None:
            await self._socket.close()

    async def events(self) -> AsyncIterator[StreamEvent]:
        """Market events, forever; reconnects and resubscribes after any connection loss."""
        while True:
            try:
                async with websockets.connect(self.url, max_size=2**24) as socket:
                    async with self._subscribing:
                        self._socket = socket
                        self.connections += 1
                        await self._subscribe_all(socket)
                    async for event in self._read(socket):
                        yield event
            except (TimeoutError, OSError, websockets.ConnectionClosed):
                pass
            self._socket = None
            for event in self._lost("connection lost"):
                yield event
            await asyncio.sleep(self.reconnect_delay)

    # --- connection ----------------------------------------------------------------------
    async def _send(self, socket: Any, method: str, params: dict[str, Any]) -> None:
        self._req_id += 1
        self.requests.append({"method": method, **params})
        await socket.send(json.dumps({"method": method, "params": params, "req_id": self._req_id}))

    def _params(self, kind: str, symbols: list[str], subscribe: bool) -> dict[str, Any]:
        """One channel's request parameters; Kraken wants depth/interval on both verbs."""
        params: dict[str, Any] = {"channel": kind, "symbol": symbols}
        if kind == "book":
            params["depth"] = self.depth
        elif kind == "ohlc":
            params["interval"] = self.ohlc_minutes or 1
        if subscribe:
            # Books need their snapshot; trades and candles start from now.
            if kind == "book":
                params["snapshot"] = True
            elif kind in ("trade", "ohlc"):
                params["snapshot"] = False
        return params

    async def _subscribe_all(self, socket: Any) -> None:
        await self._send(socket, "subscribe", {"channel": "instrument", "snapshot": True})
        for kind in CHANNELS:
            symbols = [s for s, pair in self.state.pairs.items() if kind in pair.kinds]
            if symbols:
                await self._send(socket, "subscribe", self._params(kind, symbols, True))

    async def _resubscribe_book(self, socket: Any, symbol: str) -> None:
        async with self._subscribing:
            pair = self.state.pairs.get(symbol)
            if pair is None or "book" not in pair.kinds or socket is not self._socket:
                return  # removed meanwhile, or the connection is already being replaced
            await self._send(socket, "unsubscribe", self._params("book", [symbol], False))
            await self._send(socket, "subscribe", self._params("book", [symbol], True))

    async def _read(self, socket: Any) -> AsyncIterator[StreamEvent]:
        async for item in receive(socket, stale_after=self.stale_after, clock=self.clock):
            if isinstance(item, StreamStale | StreamRecovered):
                yield item
                continue
            for event in self.parse(item, self.clock()):
                if isinstance(event, _Resync):
                    await self._resubscribe_book(socket, event.symbol)
                else:
                    yield event

    def parse(self, raw: str | bytes, now: int) -> list[StreamEvent | _Resync]:
        """One raw message -> its events (book messages verified against their checksum);
        a ``_Resync`` asks the caller to resubscribe that book."""
        return self._handle(_EXACT_JSON.decode(raw if isinstance(raw, str) else raw.decode()), now)

    def _lost(self, reason: str) -> list[StreamGap]:
        now = self.clock()
        gaps: list[StreamGap] = []
        for symbol, pair in self.state.pairs.items():
            pair.book = None
            gaps.extend(
                StreamGap(symbol, kind, reason, now) for kind in CHANNELS if kind in pair.kinds
            )
        self.state.gaps.extend(gaps)
        return gaps

    # --- messages ------------------------------------------------------------------------
    def _handle(self, message: dict[str, Any], now: int) -> list[StreamEvent | _Resync]:
        channel = message.get("channel")
        if channel == "instrument":
            for pair in message.get("data", {}).get("pairs", []):
                precisions = (int(pair["price_precision"]), int(pair["qty_precision"]))
                self.state.precisions[pair.get("symbol")] = precisions
            return []
        if channel == "book":
            return [e for item in message.get("data", []) for e in self._book(message, item, now)]
        if channel == "trade":
            return [
                Tick(
                    t["symbol"],
                    Decimal(t["price"]),
                    Decimal(t["qty"]),
                    _ns(t.get("timestamp"), now),
                    int(t["trade_id"]) if t.get("trade_id") is not None else None,
                    t.get("side"),
                )
                for t in message.get("data", [])
                if self._follows(t.get("symbol"), "trade")
            ]
        if channel == "ticker":
            return [
                Quote(
                    t["symbol"],
                    Decimal(t["bid"]),
                    Decimal(t["bid_qty"]),
                    Decimal(t["ask"]),
                    Decimal(t["ask_qty"]),
                    Decimal(t["last"]),
                    now,
                )
                for t in message.get("data", [])
                if self._follows(t.get("symbol"), "ticker")
            ]
        if channel == "ohlc":
            data = message.get("data", [])
            return [self._bar(c) for c in data if self._follows(c.get("symbol"), "ohlc")]
        return []  # heartbeat, status, acknowledgements

    def _follows(self, symbol: Any, kind: str) -> bool:
        """True when ``symbol`` is followed on ``kind`` (late messages of a removed channel
        are dropped)."""
        pair = self.state.pairs.get(symbol)
        return pair is not None and kind in pair.kinds

    @staticmethod
    def _bar(candle: dict[str, Any]) -> Bar:
        start = _ns(candle["interval_begin"], 0) // NS
        return Bar(
            candle["symbol"],
            start,
            int(candle["interval"]) * 60,
            Decimal(candle["open"]),
            Decimal(candle["high"]),
            Decimal(candle["low"]),
            Decimal(candle["close"]),
            Decimal(candle["volume"]),
            int(candle["trades"]),
        )

    def _book(self, message: dict[str, Any], item: dict[str, Any], now: int) -> list[Any]:
        symbol = item.get("symbol")
        pair = self.state.pairs.get(symbol) if isinstance(symbol, str) else None
        if pair is None or "book" not in pair.kinds:
            return []
        assert isinstance(symbol, str)
        precisions = self.state.precisions.get(symbol)
        if precisions is None:
            return []
        try:
            if message.get("type") == "snapshot":
                pair.book = LocalBook(*precisions, self.depth)
                pair.book.apply_snapshot(item.get("bids", []), item.get("asks", []))
            elif pair.book is None:
                return []  # updates before the snapshot that rebuilds the book
            else:
                pair.book.apply_update(item.get("bids", []), item.get("asks", []))
            valid = pair.book.verify(int(item["checksum"]))
        except (BookError, KeyError, ValueError):
            valid = False
        if not valid:
            pair.book = None
            gap = StreamGap(symbol, "book", "checksum mismatch", now)
            self.state.gaps.append(gap)
            return [gap, _Resync(symbol)]
        book = pair.book
        assert book is not None
        ts = _ns(item.get("timestamp"), now)
        bids, asks = book.bid_levels(), book.ask_levels()
        return [BookSnapshot(symbol, bids, asks, ts)]


@dataclass(frozen=True, slots=True)
class _Resync:
    """Internal: the book of ``symbol`` must be resubscribed."""

    symbol: str
