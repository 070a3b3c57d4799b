"""The emulator's HTTP server: Kraken's REST API under ``/0/public`` and ``/0/private``,
and the emulator's admin routes under ``/emulator``.

``create_app(runtime)`` returns a Starlette app whose lifespan starts the runtime's market
task. Kraken's answers never become an HTTP 500: a handler that fails unexpectedly answers
``EGeneral:Internal error`` in the envelope, and the failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from aether.emulator import admin
from aether.emulator.exchange.errors import ExchangeError
from aether.emulator.rest.auth import INVALID_ARGUMENTS, AuthError, authenticate, parse_body
from aether.emulator.rest.private import PRIVATE_METHODS
from aether.emulator.rest.protocol import (
    INTERNAL_ERROR,
    UNKNOWN_METHOD,
    error_response,
    ok,
    with_faults,
)
from aether.emulator.rest.public import PUBLIC_METHODS
from aether.emulator.runtime import EmulatorRuntime
from aether.emulator.ws.server import endpoint as ws_endpoint

__all__ = ["create_app"]

log = logging.getLogger("aether.emulator.app")

MAX_BODY = 256 * 1024


async def _public_params(request: Request) -> dict[str, str]:
    query = request.url.query
    try:
        params = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise AuthError(INVALID_ARGUMENTS) from None
    if request.method == "POST":
        body = await request.body()
        if len(body) > MAX_BODY:
            raise AuthError(INVALID_ARGUMENTS)
        params.update(parse_body(body, request.headers.get("content-type", "")))
    return params


def _guarded(call: Callable[[], Any], method: str) -> Response:
    try:
        return ok(call())
    except (ExchangeError, AuthError) as exc:
        return error_response(exc.kraken_error)
    except Exception:
        log.exception("emulator REST %s failed", method)
        return error_response(INTERNAL_ERROR)


def _public(runtime: EmulatorRuntime) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        method = request.path_params["method"]
        handler = PUBLIC_METHODS.get(method)
        if handler is None:
            return error_response(UNKNOWN_METHOD)
        try:
            params = await _public_params(request)
        except AuthError as exc:
            return error_response(exc.kraken_error)
        except Exception:
            log.exception("emulator REST %s: reading the request failed", method)
            return error_response(INTERNAL_ERROR)
        return _guarded(lambda: handler(runtime, params), method)

    return endpoint


def _private(runtime: EmulatorRuntime) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        method = request.path_params["method"]
        runtime.private_calls[str(method)[:64]] += 1
        handler = PRIVATE_METHODS.get(method)
        if handler is None:
            return error_response(UNKNOWN_METHOD)
        if request.method != "POST":
            return error_response(INVALID_ARGUMENTS)  # Kraken's private calls are POSTs
        try:
            body = await request.body()
            if len(body) > MAX_BODY:
                raise AuthError(INVALID_ARGUMENTS)
            caller = authenticate(
                uri_path=request.url.path,
                headers=request.headers,
                body=body,
                secret_for=runtime.exchange.accounts.secret_for,
                nonces=runtime.nonces,
            )
        except AuthError as exc:
            return error_response(exc.kraken_error)
        except Exception:
            log.exception("emulator REST %s: authentication failed unexpectedly", method)
            return error_response(INTERNAL_ERROR)
        return _guarded(lambda: handler(runtime, caller.api_key, caller.params), method)

    return endpoint


def _admin(
    runtime: EmulatorRuntime,
    route: Callable[[EmulatorRuntime, Request], Awaitable[JSONResponse]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await route(runtime, request)
        except Exception:
            log.exception("emulator admin route failed")
            return JSONResponse({"error": "internal error"}, status_code=500)

    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    return error_response(UNKNOWN_METHOD if status in (404, 405) else INTERNAL_ERROR, status)


def create_app(runtime: EmulatorRuntime, *, run_market: bool = True) -> Starlette:
    """The emulator's ASGI app; its lifespan runs the market unless ``run_market`` is False."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.start()
        if run_market:
            runtime.start_background()
        try:
            yield
        finally:
            await runtime.stop_background()

    routes = [
        Route(
            "/0/public/{method}",
            with_faults(runtime.faults, "public", _public(runtime)),
            methods=["GET", "POST"],
        ),
        Route(
            "/0/private/{method}",
            with_faults(runtime.faults, "private", _private(runtime)),
            methods=["GET", "POST"],
        ),
        Route("/emulator/accounts", _admin(runtime, admin.create_account), methods=["POST"]),
        Route("/emulator/regimes", _admin(runtime, admin.regimes), methods=["GET"]),
        Route("/emulator/calls", _admin(runtime, admin.calls), methods=["GET"]),
        Route("/emulator/faults", _admin(runtime, admin.faults), methods=["GET", "POST"]),
        WebSocketRoute("/v2", ws_endpoint(runtime)),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, Exception: _http_error},
    )
