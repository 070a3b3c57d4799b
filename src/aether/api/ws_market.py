"""``WS /ws/market``: live market data for authenticated clients.

Protocol (JSON text frames):

1. The client's first message is ``{"type": "auth", "api_key": "aek_..."}``, within
   ``ws_market_auth_timeout_seconds`` (10 s). The key needs the ``read`` scope. Keys are never
   accepted in the query string. The server answers ``{"type": "authenticated", ...}``.
2. ``{"type": "subscribe" | "unsubscribe", "symbol": "XBTUSD", "kinds": ["trade", "book"]}``
   (kinds from ``book, trade, ticker, ohlc, status``; the pair in any spelling
   ``marketdata.pair_names`` accepts, e.g. ``BTC/USD``), answered by ``{"type": "ack", ...}``
   naming the altname (``XBTUSD``)
   once the bus has the change (data of a new subscription may come just before its ack);
   an unknown pair or kind, or a malformed message, is answered by ``{"type": "error", ...}``
   and the connection stays open. ``{"type": "ping"}`` is answered by ``{"type": "pong"}``.
3. Market data arrives as the bus payloads of ``md.kraken.<SYMBOL>.<kind>``, forwarded
   unchanged. ``{"type": "status", "bus": "down" | "up", ...}`` tells when the market-data
   bus is unreachable or back.

Close codes (with a reason text): 4000 protocol (first message not an auth message),
4001 unauthenticated (missing, unknown, revoked or expired key), 4002 credentials in the
query string, 4003 forbidden (key lacks ``read``), 4008 no auth message in time,
4009 slow consumer (its queue of ``ws_market_queue_size`` frames filled up), 4029 too many
connections for this key (``ws_market_max_connections_per_key``), 1013 market data is
disabled in this process, 1003 a binary frame (before or after authentication: the protocol
is JSON text).
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from aether.api.market_fanout import SLOW_CONSUMER, MarketClient, MarketFanout, status_frame
from aether.api.state import AppState
from aether.bus.subjects import MARKET_KINDS, market_subject
from aether.domain.accounts import Scope
from aether.security import key_store
from aether.security.principal import Principal
from aether.venues.kraken.pair_names import IN_ONLINE_REGISTRY, PairNames

log = structlog.get_logger("aether.api.ws_market")

router = APIRouter()

PATH = "/ws/market"
CLOSE_PROTOCOL = 4000
CLOSE_UNAUTHENTICATED = 4001
CLOSE_QUERY_CREDENTIALS = 4002
CLOSE_FORBIDDEN = 4003
CLOSE_AUTH_TIMEOUT = 4008
CLOSE_SLOW_CONSUMER = 4009
CLOSE_TOO_MANY_CONNECTIONS = 4029
CLOSE_UNAVAILABLE = 1013
CLOSE_UNSUPPORTED_DATA = 1003

#: Query parameters that would carry a credential; refused so keys never reach URL logs.
_CREDENTIAL_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token", "auth"})
_MAX_CLIENT_MESSAGE = 4096
_NO_PAIRS = PairNames((), IN_ONLINE_REGISTRY)


class _Closed(Exception):
    """End the connection with ``code`` and ``reason``; ``metric`` labels the drop."""

    def __init__(self, code: int, reason: str, metric: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.metric = metric


async def _receive_text(websocket: WebSocket) -> str:
    """The next text frame; a binary frame is _Closed (1003), a disconnect WebSocketDisconnect."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    if not isinstance(text, str):
        raise _Closed(
            CLOSE_UNSUPPORTED_DATA,
            "binary frames are not supported: send JSON text frames",
            "binary_frame",
        )
    return text


def _credentials_in_query(websocket: WebSocket) -> bool:
    return any(
        name.lower() in _CREDENTIAL_PARAMS or value.startswith("aek_")
        for name, value in websocket.query_params.multi_items()
    )


async def _authenticate(websocket: WebSocket, state: AppState) -> Principal:
    """The principal of the first message's key, or _Closed with the reason."""
    timeout = state.settings.ws_market_auth_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            raw = await _receive_text(websocket)
    except TimeoutError:
        raise _Closed(
            CLOSE_AUTH_TIMEOUT, f"no auth message within {timeout:g}s", "auth_timeout"
        ) from None
    try:
        first = json.loads(raw) if len(raw) <= _MAX_CLIENT_MESSAGE else None
    except ValueError:
        first = None
    if not isinstance(first, dict) or first.get("type") != "auth":
        raise _Closed(
            CLOSE_PROTOCOL, 'first message must be {"type": "auth", "api_key": ...}', "protocol"
        )
    token = first.get("api_key")
    if not isinstance(token, str) or not token:
        raise _Closed(CLOSE_UNAUTHENTICATED, "auth message has no api_key", "unauthenticated")
    async with state.sessions() as session:
        try:
            principal = await key_store.authenticate(session, token, now=datetime.now(UTC))
        except key_store.AuthenticationError as exc:
            raise _Closed(CLOSE_UNAUTHENTICATED, str(exc), "unauthenticated") from exc
        await session.commit()
    if Scope.READ not in principal.scopes:
        raise _Closed(CLOSE_FORBIDDEN, "this API key lacks the 'read' scope", "forbidden")
    return principal


def _error(op: object, message: str) -> str:
    return json.dumps({"type": "error", "op": op, "message": message})


def _pair_and_kinds(request: dict[str, Any], online: PairNames) -> tuple[str, list[str]]:
    """The pair and kinds (in canonical order) a subscribe/unsubscribe names; ValueError says
    what is wrong."""
    symbol = request.get("symbol")
    kinds = request.get("kinds")
    if not isinstance(symbol, str) or not symbol:
        raise ValueError("symbol is required (e.g. XBTUSD)")
    symbol = online.canonical(symbol)  # UnknownPairError is a ValueError naming the pair
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise ValueError(f"kinds must be a non-empty list of {', '.join(MARKET_KINDS)}")
    unknown = [k for k in kinds if k not in MARKET_KINDS]
    if unknown:
        raise ValueError(f"unknown kind {unknown[0]!r}: use {', '.join(MARKET_KINDS)}")
    return symbol, [k for k in MARKET_KINDS if k in kinds]


async def _handle(raw: str, client: MarketClient, fanout: MarketFanout, online: PairNames) -> None:
    """Answer one client message (after authentication)."""
    try:
        request = json.loads(raw) if len(raw) <= _MAX_CLIENT_MESSAGE else None
    except ValueError:
        request = None
    if not isinstance(request, dict):
        client.offer(_error(None, f"messages are JSON objects of at most {_MAX_CLIENT_MESSAGE}B"))
        return
    op = request.get("type")
    if op == "ping":
        client.offer('{"type": "pong"}')
        return
    if op not in ("subscribe", "unsubscribe"):
        client.offer(_error(op, "type must be subscribe, unsubscribe or ping"))
        return
    try:
        symbol, kinds = _pair_and_kinds(request, online)
    except ValueError as exc:
        client.offer(_error(op, str(exc)))
        return
    for subject in (market_subject(symbol, kind) for kind in kinds):
        if op == "subscribe":
            await fanout.follow(client, subject)
        else:
            await fanout.unfollow(client, subject)
    # Acknowledged once the bus has the change: after a subscribe ack, nothing published is
    # missed; after an unsubscribe ack, nothing more arrives.
    await fanout.sync()
    client.offer(json.dumps({"type": "ack", "op": op, "symbol": symbol, "kinds": kinds}))


async def _send_loop(websocket: WebSocket, client: MarketClient) -> None:
    queue = client.queue
    while True:
        await websocket.send_text(await queue.get())


async def _receive_loop(
    websocket: WebSocket, client: MarketClient, fanout: MarketFanout, state: AppState
) -> None:
    market = state.market
    while True:
        raw = await _receive_text(websocket)
        online = market.registry.names if market is not None else _NO_PAIRS
        await _handle(raw, client, fanout, online)


async def _serve(websocket: WebSocket, client: MarketClient, state: AppState) -> _Closed | None:
    """Run one authenticated client until it leaves (None) or must be closed (_Closed)."""
    assert state.market is not None
    fanout = state.market.fanout
    tasks = {
        asyncio.create_task(_send_loop(websocket, client)),
        asyncio.create_task(_receive_loop(websocket, client, fanout, state)),
        asyncio.create_task(client.dropped.wait()),
    }
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if client.dropped.is_set():
        return _Closed(CLOSE_SLOW_CONSUMER, SLOW_CONSUMER, "slow_consumer")
    for task in done:
        exc = task.exception()
        if isinstance(exc, _Closed):
            return exc
        if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
            log.warning("market client failed", error=type(exc).__name__)
    return None


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state is WebSocketState.CONNECTED:
        with suppress(Exception):  # the peer may be gone already
            async with asyncio.timeout(2):
                await websocket.close(code=code, reason=reason[:120])


@router.websocket(PATH)
async def market_stream(websocket: WebSocket) -> None:
    """Authenticate with the first message, then stream the pairs and kinds asked for."""
    state: AppState = websocket.app.state.aether
    metrics = state.metrics
    await websocket.accept()
    client: MarketClient | None = None
    try:
        if _credentials_in_query(websocket):
            raise _Closed(
                CLOSE_QUERY_CREDENTIALS,
                "API keys are refused in the query string; send an auth message",
                "query_credentials",
            )
        if state.market is None:
            raise _Closed(CLOSE_UNAVAILABLE, "market data is disabled on this server", "disabled")
        principal = await _authenticate(websocket, state)
        fanout = state.market.fanout
        client = fanout.register(principal.key_id)
        if client is None:
            limit = fanout.max_connections_per_key
            raise _Closed(
                CLOSE_TOO_MANY_CONNECTIONS,
                f"too many connections for this API key (limit {limit})",
                "connection_limit",
            )
        metrics.ws_market_clients.inc()
        bus = "up" if fanout.bus_up else "down"
        client.offer(json.dumps({"type": "authenticated", "user": principal.user_name, "bus": bus}))
        if not fanout.bus_up:
            client.offer(status_frame(bus_up=False))
        closing = await _serve(websocket, client, state)
        if closing is not None:
            raise closing
    except _Closed as closed:
        metrics.ws_market_dropped.labels(closed.metric).inc()
        await _close(websocket, closed.code, closed.reason)
    except WebSocketDisconnect:
        return
    finally:
        if client is not None and state.market is not None:
            metrics.ws_market_clients.dec()
            await state.market.fanout.unregister(client)
