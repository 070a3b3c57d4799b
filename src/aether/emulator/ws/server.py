"""Kraken's WebSocket v2 on the emulator: ``/v2``, public and authenticated on one path
(a private channel or a trading method needs a ``token`` from GetWebSocketsToken).

Each connection gets a ``status`` message on connect, a ``heartbeat`` about once a second,
``pong`` for ``ping`` and Kraken's response envelope for every request. What it should
receive goes through a bounded queue: the :class:`Hub` fills it from the runtime's market
loop without waiting, and a connection whose queue overflows (a consumer too slow for the
market) is closed with a reason rather than allowed to hold the market back. Malformed or
unknown requests answer ``success: false`` with an error string; the connection stays
usable.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from aether.emulator.runtime import EmulatorRuntime
from aether.emulator.ws.private import PRIVATE_CHANNELS, AccountFeed, PrivateView, account_for
from aether.emulator.ws.protocol import (
    MALFORMED,
    METHOD_NOT_FOUND,
    NOT_SUBSCRIBED,
    Symbols,
    WsError,
    dumps,
    reply,
    rfc3339,
)
from aether.emulator.ws.public import PUBLIC_CHANNELS, MarketFeed
from aether.emulator.ws.trading import UNSUPPORTED_METHODS, Trading

__all__ = ["QUEUE_LIMIT", "Connection", "Hub", "endpoint"]

log = logging.getLogger(__name__)

QUEUE_LIMIT = 4096
HEARTBEAT_SECONDS = 1.0
HEARTBEAT = dumps({"channel": "heartbeat"})
API_VERSION = "2.0.10"
OVERFLOW_CODE = 1008
OVERFLOW_REASON = "slow consumer: send queue overflow"
INTERNAL_ERROR = "EGeneral:Internal error"
DROP_CODE = 1011
DROP_REASON = "connection dropped (fault injection)"


class Connection:
    """One client: its subscriptions and its bounded outgoing queue."""

    def __init__(self, connection_id: int, limit: int = QUEUE_LIMIT) -> None:
        self.connection_id = connection_id
        self.queue: asyncio.Queue[str] = asyncio.Queue(limit)
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.private = PrivateView()
        self.overflowed = asyncio.Event()
        self.dropped = asyncio.Event()  # fault injection: the server drops the connection

    def send(self, message: dict[str, Any]) -> None:
        """Queue ``message`` without waiting; on overflow the connection is to be closed."""
        if self.overflowed.is_set():
            return
        try:
            self.queue.put_nowait(dumps(message))
        except asyncio.QueueFull:
            self.overflowed.set()


class Hub:
    """Every connection of one runtime, and the feeds that publish to them."""

    def __init__(self, runtime: EmulatorRuntime) -> None:
        self.runtime = runtime
        self.symbols = Symbols(runtime.catalogue)
        self.market = MarketFeed(runtime, self.symbols)
        self.accounts = AccountFeed(runtime, self.symbols)
        self.trading = Trading(runtime, self.symbols)
        self.connections: set[Connection] = set()
        self.queue_limit = QUEUE_LIMIT
        self._ids = itertools.count(1)

    def connect(self) -> Connection:
        conn = Connection(next(self._ids), self.queue_limit)
        self.connections.add(conn)
        conn.send(
            {
                "channel": "status",
                "type": "update",
                "data": [
                    {
                        "api_version": "v2",
                        "connection_id": conn.connection_id,
                        "system": "online",
                        "version": API_VERSION,
                    }
                ],
            }
        )
        return conn

    def publish(self) -> None:
        """Send every connection what changed since the last publish (runs after each
        market tick and after each trading request). The candles must be synced first: a
        tick does so itself, a trading request through :meth:`_publish_after_request`."""
        if self.runtime.faults.take_ws_drop():
            for conn in self.connections:
                conn.dropped.set()
        self.market.publish(self.connections)
        self.accounts.publish(self.connections)

    def _publish_after_request(self) -> None:
        """Publish outside a tick: first feed the candles the trades the request printed."""
        self.runtime.sync_candles()
        self.publish()

    # --- requests -----------------------------------------------------------------------

    def handle(self, conn: Connection, text: str) -> None:
        """Answer one client message; never raises."""
        time_in = rfc3339(self.runtime.now_ns())
        method: Any = None
        req_id: Any = None
        try:
            request = json.loads(text, parse_float=Decimal)
            if not isinstance(request, dict):
                raise WsError(MALFORMED)
            method, req_id = request.get("method"), request.get("req_id")
            params = request.get("params", {})
            if not isinstance(method, str) or not isinstance(params, dict):
                raise WsError(MALFORMED)
            self._dispatch(conn, method, req_id, params, time_in)
        except (ValueError, RecursionError):
            conn.send(self._reply(method, req_id, time_in, error=MALFORMED))
        except WsError as exc:
            conn.send(self._reply(method, req_id, time_in, error=exc.error, **exc.extra))
        except Exception:
            log.exception("emulator WebSocket request failed: %.200s", text)
            conn.send(self._reply(method, req_id, time_in, error=INTERNAL_ERROR))

    def _reply(self, method: Any, req_id: Any, time_in: str, **kwargs: Any) -> dict[str, Any]:
        now = rfc3339(self.runtime.now_ns())
        message = reply(method if isinstance(method, str) else "", req_id, time_in, now, **kwargs)
        if not isinstance(method, str):
            del message["method"]
        return message

    def _dispatch(
        self, conn: Connection, method: str, req_id: Any, params: dict[str, Any], time_in: str
    ) -> None:
        if method == "ping":
            pong = self._reply("pong", req_id, time_in)
            del pong["success"]
            conn.send(pong)
        elif method == "subscribe":
            self._subscribe(conn, req_id, params, time_in)
        elif method == "unsubscribe":
            self._unsubscribe(conn, req_id, params, time_in)
        elif method == "cancel_order":
            for answer in self.trading.cancel_order(params):
                if isinstance(answer, WsError):
                    error = self._reply(method, req_id, time_in, error=answer.error, **answer.extra)
                    conn.send(error)
                else:
                    conn.send(self._reply(method, req_id, time_in, result=answer))
            self._publish_after_request()
        elif method in self.trading.methods():
            result = self.trading.methods()[method](params)
            conn.send(self._reply(method, req_id, time_in, result=result))
            self._publish_after_request()
        elif method in UNSUPPORTED_METHODS:
            account_for(self.runtime, params)
            raise WsError(f"EGeneral:Invalid arguments:{method} is not supported by the emulator")
        else:
            raise WsError(METHOD_NOT_FOUND)

    def _channel(self, params: dict[str, Any]) -> str:
        channel = params.get("channel")
        if channel not in PUBLIC_CHANNELS and channel not in PRIVATE_CHANNELS:
            raise WsError(f"Channel {channel} not supported"[:200])
        return str(channel)

    def _subscribe(
        self, conn: Connection, req_id: Any, params: dict[str, Any], time_in: str
    ) -> None:
        channel = self._channel(params)
        if channel in PRIVATE_CHANNELS:
            result, snapshot = self.accounts.subscribe(conn, channel, params, self.connections)
            conn.send(self._reply("subscribe", req_id, time_in, result=result))
            if snapshot is not None:
                conn.send(snapshot)
            return
        for symbol, answer, messages in self.market.subscribe(conn, channel, params):
            if isinstance(answer, WsError):
                extra = {"symbol": symbol, **answer.extra}
                conn.send(self._reply("subscribe", req_id, time_in, error=answer.error, **extra))
                continue
            conn.send(self._reply("subscribe", req_id, time_in, result=answer))
            for message in messages:
                conn.send(message)

    def _unsubscribe(
        self, conn: Connection, req_id: Any, params: dict[str, Any], time_in: str
    ) -> None:
        channel = self._channel(params)
        if channel in PRIVATE_CHANNELS:
            account_for(self.runtime, params)
            self.accounts.unsubscribe(conn, channel)
            conn.send(self._reply("unsubscribe", req_id, time_in, result={"channel": channel}))
            return
        subs = conn.subscriptions.get(channel, {})
        if channel == "instrument":
            if subs.pop("*", None) is None:
                raise WsError(NOT_SUBSCRIBED)
            conn.send(self._reply("unsubscribe", req_id, time_in, result={"channel": channel}))
            return
        symbols = params.get("symbol")
        if not isinstance(symbols, list) or not symbols:
            raise WsError("EGeneral:Invalid arguments:symbol")
        for symbol in symbols:
            try:
                pair = self.symbols.pair(symbol)
                if subs.pop(pair.altname, None) is None:
                    raise WsError(NOT_SUBSCRIBED, symbol=symbol)
            except WsError as exc:
                answer = self._reply("unsubscribe", req_id, time_in, error=exc.error, **exc.extra)
                conn.send(answer)
                continue
            result = {"channel": channel, "symbol": symbol}
            conn.send(self._reply("unsubscribe", req_id, time_in, result=result))


async def _read(hub: Hub, conn: Connection, websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                text = data.decode("utf-8", errors="replace")
            hub.handle(conn, text)


async def _write(conn: Connection, websocket: WebSocket, stalled: Callable[[], bool]) -> None:
    loop = asyncio.get_running_loop()
    beat = loop.time() + HEARTBEAT_SECONDS
    while True:
        if stalled():  # fault injection: a feed that goes silent, heartbeats included
            await asyncio.sleep(0.05)
            beat = loop.time() + HEARTBEAT_SECONDS
            continue
        wait = beat - loop.time()
        if wait <= 0:
            await websocket.send_text(HEARTBEAT)
            beat = loop.time() + HEARTBEAT_SECONDS
            continue
        try:  # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel
            async with asyncio.timeout(wait):
                text = await conn.queue.get()
        except TimeoutError:
            continue
        await websocket.send_text(text)


def endpoint(runtime: EmulatorRuntime) -> Callable[[WebSocket], Awaitable[None]]:
    """The ``/v2`` WebSocket endpoint; its hub publishes after every market tick."""
    hub = Hub(runtime)
    runtime.tick_listeners.append(hub.publish)

    async def serve(websocket: WebSocket) -> None:
        await websocket.accept()
        conn = hub.connect()
        tasks = [
            asyncio.create_task(_read(hub, conn, websocket)),
            asyncio.create_task(_write(conn, websocket, runtime.faults.stalled)),
            asyncio.create_task(conn.overflowed.wait()),
            asyncio.create_task(conn.dropped.wait()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.debug("emulator WebSocket closed: %r", task.exception())
        finally:
            hub.connections.discard(conn)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            if conn.overflowed.is_set():
                await websocket.close(code=OVERFLOW_CODE, reason=OVERFLOW_REASON)
            elif conn.dropped.is_set():
                await websocket.close(code=DROP_CODE, reason=DROP_REASON)
            else:
                await websocket.close()

    return serve
