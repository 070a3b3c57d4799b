"""What the emulator's public and private REST endpoints share: Kraken's envelope, request
parameters and their parsing.

Every answer is ``{"error": [], "result": {...}}`` on success and ``{"error": ["<string>"]}``
on failure, with HTTP 200 as Kraken answers its own errors. Parameters arrive as strings (a
query string, a form body, or a JSON body whose non-string values are JSON text); a
malformed one is ``EGeneral:Invalid arguments:<name>``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from aether.emulator.exchange.errors import (
    INVALID_ARGUMENTS,
    UNKNOWN_ASSET_PAIR,
    ExchangeError,
    invalid_argument,
)
from aether.emulator.exchange.orders import USERREFS
from aether.emulator.faults import Faults
from aether.emulator.kraken_format import PairCatalogue, PairInfo

__all__ = [
    "INTERNAL_ERROR",
    "UNKNOWN_METHOD",
    "Params",
    "error_response",
    "ok",
    "opt_bool",
    "opt_int",
    "opt_str",
    "traded_pair",
    "with_faults",
]

log = logging.getLogger("aether.emulator.rest")

# Spelled as aether.venues.kraken.error_strings spells them (the emulator may not import it).
UNKNOWN_METHOD = "EGeneral:Unknown method"
INTERNAL_ERROR = "EGeneral:Internal error"

Params = Mapping[str, str]

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})
_INT64 = 2**63


def ok(result: Any) -> JSONResponse:
    return JSONResponse({"error": [], "result": result})


def error_response(kraken_error: str, status: int = 200) -> JSONResponse:
    return JSONResponse({"error": [kraken_error]}, status_code=status)


def opt_str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_argument(name)
    return value


def opt_int(params: Params, name: str, *, low: int = -_INT64, high: int = _INT64 - 1) -> int | None:
    """An integer parameter within ``[low, high]``, or None when absent or empty."""
    text = opt_str(params, name)
    if text is None or text == "":
        return None
    body = text[1:] if text[:1] == "-" else text
    if not body.isascii() or not body.isdigit() or len(body) > 20:
        raise invalid_argument(name)
    value = int(text)
    if not low <= value <= high:
        raise invalid_argument(name)
    return value


def opt_userref(params: Params) -> int | None:
    """``userref``, a signed 32-bit integer, or None when absent."""
    return opt_int(params, "userref", low=USERREFS[0], high=USERREFS[-1])


def opt_bool(params: Params, name: str) -> bool:
    text = opt_str(params, name)
    if text is None:
        return False
    folded = text.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise invalid_argument(name)


def traded_pair(catalogue: PairCatalogue, name: str | None) -> PairInfo:
    """The tradable pair a ``pair`` parameter names (altname or key)."""
    if name is None or name == "":
        raise ExchangeError(f"{INVALID_ARGUMENTS}:pair")
    pair = catalogue.find(name)
    if pair is None or not pair.tradable:
        raise ExchangeError(UNKNOWN_ASSET_PAIR)
    return pair


def json_list(text: str, name: str) -> list[Any]:
    """A JSON array parameter (e.g. AddOrderBatch's ``orders``)."""
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise invalid_argument(name) from None
    if not isinstance(value, list):
        raise invalid_argument(name)
    return value


Endpoint = Callable[[Request], Awaitable[Response]]


def with_faults(faults: Faults, scope: str, endpoint: Endpoint) -> Endpoint:
    """``endpoint`` under the injected REST faults of ``scope`` (public or private): an
    injected error answers instead of the call, and the latency delays every answer (after
    the call was carried out, as a slow network would)."""

    async def faulted(request: Request) -> Response:
        error = faults.take_rest_error(scope)
        response = error_response(error) if error is not None else await endpoint(request)
        if faults.latency_s > 0:
            await asyncio.sleep(faults.latency_s)
        return response

    return faulted
