"""Kraken's authenticated WebSocket v2: the ``executions`` and ``balances`` channels and the
trading methods, over one connection at a time.

Rules a caller must know:

* Every connection starts with a fresh token from REST ``GetWebSocketsToken`` (Kraken's
  tokens are short-lived and meant for one connection), then subscribes ``executions``
  (open orders and the last 50 fills in the snapshot) and ``balances``. Requests wait until
  both subscriptions are acknowledged.
* Trading methods send a ``req_id`` and await the response with that id; ``success: false``
  raises the typed :class:`~aether.venues.kraken.errors.KrakenError` of its error string.
  No answer within ``request_timeout`` raises :class:`RequestTimeout`; a connection lost
  before the answer raises :class:`ConnectionLost`. In both cases the outcome is unknown:
  the executions channel (or its snapshot after the reconnect) says what happened.
* ``executions`` messages go to ``on_executions(kind, entries)`` (``kind`` is ``snapshot``
  or ``update``) in the order received; after a reconnect the snapshot repeats open orders
  and recent fills, so the listener must be idempotent. ``balances`` are kept in
  :attr:`KrakenPrivateSession.balances` (v2 asset names: ``BTC``, ``USD``).
* No message for ``stale_after`` seconds (Kraken heartbeats about every second) is a
  ``StreamStale`` in :attr:`KrakenPrivateSession.stream_events`; no message for
  ``dead_after`` seconds closes the connection, which is then reopened.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import websockets

from aether.domain import decimal_json
from aether.ops.tasks import stop_task
from aether.venues.kraken.errors import KrakenError, error_for
from aether.venues.kraken.rest import KrakenRest, KrakenTransportError
from aether.venues.kraken.ws import StreamEvent
from aether.venues.kraken.ws_receive import (
    EVENTS_KEPT,
    StreamGap,
    StreamRecovered,
    StreamStale,
    receive,
)

__all__ = [
    "ConnectionLost",
    "ExecutionsListener",
    "KrakenPrivateSession",
    "RequestTimeout",
    "dumps",
]

log = logging.getLogger(__name__)

#: ``on_executions(kind, entries)``: kind is "snapshot" or "update".
ExecutionsListener = Callable[[str, list[dict[str, Any]]], None]


class ConnectionLost(ConnectionError):
    """The connection closed before the response arrived: the outcome is unknown."""


class RequestTimeout(TimeoutError):
    """No response in time: the outcome is unknown."""


def dumps(value: Any) -> str:
    """JSON where Decimals are numbers written exactly (v2 takes prices as numbers)."""
    return decimal_json.dumps(value, decimals="number")


class KrakenPrivateSession:
    """One API key's authenticated WebSocket v2 session; ``start`` it on the event loop."""

    def __init__(
        self,
        url: str,
        rest: KrakenRest,
        *,
        on_executions: ExecutionsListener | None = None,
        request_timeout: float = 10.0,
        stale_after: float = 5.0,
        dead_after: float = 15.0,
        reconnect_delay: float = 0.5,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.url = url
        self.rest = rest
        self.on_executions = on_executions
        self.request_timeout = request_timeout
        self.stale_after = stale_after
        self.dead_after = dead_after
        self.reconnect_delay = reconnect_delay
        self.clock = clock
        self.balances: dict[str, Decimal] = {}
        self.stream_events: deque[StreamEvent] = deque(maxlen=EVENTS_KEPT)  # the latest
        self.connections = 0
        self.ready = asyncio.Event()
        self._token = ""
        self._socket: Any = None
        self._req_id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Run the session on the running loop (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        await stop_task(task)
        self._fail_pending("session stopped")

    async def wait_ready(self, timeout: float | None = None) -> None:
        async with asyncio.timeout(timeout or self.request_timeout):
            await self.ready.wait()

    async def _run(self) -> None:
        while True:
            try:
                result = await self.rest.private("GetWebSocketsToken")
                self._token = str(result["token"])
                async with websockets.connect(self.url, max_size=2**24) as socket:
                    self._socket = socket
                    self.connections += 1
                    await self._serve(socket)
            except (
                TimeoutError,
                OSError,
                websockets.WebSocketException,
                KrakenError,
                KrakenTransportError,
            ) as exc:  # Kraken errors: the token call or a subscription failed
                log.info("Kraken private WebSocket: %r; reconnecting", exc)
            self._socket = None
            self.ready.clear()
            self._fail_pending("connection lost")
            self.stream_events.append(StreamGap("*", "executions", "connection lost", self.clock()))
            await asyncio.sleep(self.reconnect_delay)

    async def _serve(self, socket: Any) -> None:
        reader = asyncio.create_task(self._read(socket))
        try:
            subscribe = {"channel": "executions", "snap_orders": True, "snap_trades": True}
            await self._request(socket, "subscribe", subscribe)
            await self._request(socket, "subscribe", {"channel": "balances", "snapshot": True})
            self.ready.set()
            await reader
        finally:
            await stop_task(reader)

    def _fail_pending(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ConnectionLost(why))

    # --- requests -------------------------------------------------------------------------
    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        """Send ``method`` (the token is added) once connected; its ``result``."""
        try:
            await self.wait_ready()
        except TimeoutError:
            raise ConnectionLost(f"{method}: not connected") from None
        return await self._request(self._socket, method, params or {})

    async def _request(self, socket: Any, method: str, params: dict[str, Any]) -> Any:
        if socket is None:
            raise ConnectionLost(f"{method}: not connected")
        self._req_id += 1
        req_id = self._req_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        body = {"method": method, "params": {**params, "token": self._token}, "req_id": req_id}
        try:
            try:
                await socket.send(dumps(body))
            except websockets.ConnectionClosed:
                raise ConnectionLost(f"{method}: connection closed") from None
            async with asyncio.timeout(self.request_timeout):
                return await future
        except TimeoutError:
            raise RequestTimeout(f"{method} (req_id {req_id}): no response") from None
        finally:
            self._pending.pop(req_id, None)

    async def add_order(self, params: dict[str, Any]) -> Any:
        return await self.request("add_order", params)

    async def amend_order(self, params: dict[str, Any]) -> Any:
        return await self.request("amend_order", params)

    async def cancel_order(
        self, *, cl_ord_id: Sequence[str] = (), order_id: Sequence[str] = ()
    ) -> Any:
        params: dict[str, Any] = {}
        if cl_ord_id:
            params["cl_ord_id"] = list(cl_ord_id)
        if order_id:
            params["order_id"] = list(order_id)
        return await self.request("cancel_order", params)

    async def cancel_all(self) -> Any:
        return await self.request("cancel_all")

    async def cancel_all_orders_after(self, timeout_s: int) -> Any:
        """Arm (or with 0 disarm) Kraken's dead man's switch for ``timeout_s`` seconds."""
        return await self.request("cancel_all_orders_after", {"timeout": int(timeout_s)})

    async def batch_add(self, symbol: str, orders: Sequence[dict[str, Any]]) -> Any:
        return await self.request("batch_add", {"symbol": symbol, "orders": list(orders)})

    # --- messages -------------------------------------------------------------------------
    async def _read(self, socket: Any) -> None:
        watch = receive(
            socket, stale_after=self.stale_after, clock=self.clock, dead_after=self.dead_after
        )
        async for item in watch:
            if isinstance(item, StreamStale | StreamRecovered):
                self.stream_events.append(item)
                continue
            try:
                message = decimal_json.loads(item, floats="decimal")
            except ValueError:
                log.warning("Kraken private WebSocket: not JSON: %.200r", item)
                continue
            self._handle(message)
        await socket.close()  # silent for dead_after seconds: reconnect

    def _handle(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        req_id = message.get("req_id")
        if "success" in message and isinstance(req_id, int):
            future = self._pending.get(req_id)
            if future is not None and not future.done():
                if message["success"]:
                    future.set_result(message.get("result"))
                else:
                    future.set_exception(error_for(str(message.get("error", "EGeneral:Unknown"))))
            return
        channel = message.get("channel")
        data = message.get("data")
        if channel == "executions" and isinstance(data, list):
            if self.on_executions is not None:
                try:
                    self.on_executions(str(message.get("type", "update")), data)
                except Exception:  # a listener's bug must not end the session
                    log.exception("executions listener failed on %.500r", data)
        elif channel == "balances" and isinstance(data, list):
            if message.get("type") == "snapshot":
                self.balances.clear()
            for entry in data:
                if isinstance(entry, dict) and "asset" in entry and "balance" in entry:
                    self.balances[str(entry["asset"])] = Decimal(str(entry["balance"]))
