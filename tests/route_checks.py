"""Walk every route of an app and report which ones fail authentication or account scope.

Used against the real app (expects no offenders) and against a throwaway app with a route
that forgot its dependency (expects that route), so the checks are proven able to fail.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, WebSocketRoute

BODY_METHODS = {"POST", "PUT", "PATCH"}
#: Sent as the body of anonymous requests: a route that parsed bodies before authenticating
#: would answer 422 (malformed JSON) instead of 401.
MALFORMED_JSON = {"content": b"{", "headers": {"Content-Type": "application/json"}}


def operations(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, path template): from the OpenAPI schema, plus routes hidden from it."""
    seen: set[tuple[str, str]] = set()
    for path, item in app.openapi()["paths"].items():
        for method in item:
            seen.add((method.upper(), path))
    for route in app.routes:
        if isinstance(route, APIRoute):
            for method in route.methods - {"HEAD", "OPTIONS"}:
                seen.add((method, route.path))
    yield from sorted(seen)


def _flat_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, BaseRoute]]:
    """(full path prefix, route) through included routers, which FastAPI keeps as nested
    ``_IncludedRouter`` entries (``original_router`` and ``include_context.prefix``)."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            yield from _flat_routes(original.routes, prefix + getattr(context, "prefix", ""))
        else:
            yield prefix, route


def websocket_paths(app: FastAPI) -> set[str]:
    """Every WebSocket route: not in the OpenAPI schema, and not reachable over httpx, so
    each must be known by name and have its own authentication test."""
    return {
        prefix + route.path
        for prefix, route in _flat_routes(app.routes)
        if isinstance(route, APIWebSocketRoute | WebSocketRoute)
    }


def fill(path: str, account_id: uuid.UUID | None = None) -> str:
    """Replace path parameters: ``account_id`` with the given id, others with random UUIDs."""
    parts = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            value = account_id if name == "account_id" and account_id else uuid.uuid4()
            parts.append(str(value))
        else:
            parts.append(part)
    return "/".join(parts)


async def anonymously_reachable(
    client: httpx.AsyncClient, app: FastAPI, public: frozenset[str]
) -> list[str]:
    """Operations outside ``public`` that do not answer 401 without credentials (bodies are
    malformed JSON: authentication must come first)."""
    offenders = []
    for method, path in operations(app):
        if path in public:
            continue
        kwargs: dict[str, Any] = MALFORMED_JSON if method in BODY_METHODS else {}
        response = await client.request(method, fill(path), **kwargs)
        if response.status_code != 401:
            offenders.append(f"{method} {path} -> {response.status_code}")
    return offenders


async def cross_account_reachable(
    client: httpx.AsyncClient, app: FastAPI, headers: dict[str, str], foreign: uuid.UUID
) -> list[str]:
    """Account-scoped operations that let the caller act on ``foreign`` (not 403/404)."""
    offenders = []
    for method, path in operations(app):
        if "{account_id}" not in path:
            continue
        kwargs = {"json": {}} if method in BODY_METHODS else {}
        response = await client.request(method, fill(path, foreign), headers=headers, **kwargs)
        if response.status_code not in (403, 404):
            offenders.append(f"{method} {path} -> {response.status_code}")
    return offenders
