"""The emulator's own admin routes (not Kraken's): create funded accounts, read the
synthetic market's true regimes. Errors are plain JSON ``{"error": "<message>"}`` with
HTTP 400, since no Kraken client ever calls these."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from aether.emulator.kraken_format import internal_asset
from aether.emulator.runtime import EmulatorRuntime

__all__ = ["create_account", "parse_balances", "regimes"]

MAX_BODY = 64 * 1024
_MAX_DIGITS = 40


class AdminError(ValueError):
    """A refused admin request; the message says what to fix."""


def _amount(name: str, raw: object) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise AdminError(f'{name}: give the amount as a decimal string, e.g. "10000"')
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise AdminError(f"{name}: {raw!r} is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise AdminError(f"{name}: {raw!r} must be a finite number, zero or more")
    if len(value.as_tuple().digits) > _MAX_DIGITS or value.adjusted() > 20:
        raise AdminError(f"{name}: {raw!r} is too large")
    return value


def parse_balances(body: object, known: list[str]) -> tuple[dict[str, Decimal], Decimal]:
    """``{"balances": {"USD": "10000"}, "volume_30d_usd": "0"}`` checked: known assets
    (``USD`` or Kraken's ``ZUSD``), non-negative decimal amounts."""
    if not isinstance(body, dict):
        raise AdminError('the body must be a JSON object like {"balances": {"USD": "10000"}}')
    extra = sorted(set(body) - {"balances", "volume_30d_usd"})
    if extra:
        raise AdminError(f"unknown field {extra[0]!r}; expected balances, volume_30d_usd")
    raw = body.get("balances", {})
    if not isinstance(raw, dict):
        raise AdminError('balances must be an object like {"USD": "10000"}')
    balances: dict[str, Decimal] = {}
    for name, amount in raw.items():
        asset = internal_asset(str(name))
        if asset not in known:
            raise AdminError(f"unknown asset {name!r}; known: {', '.join(known)}")
        if asset in balances:
            raise AdminError(f"asset {asset} given twice")
        balances[asset] = _amount(f"balances.{name}", amount)
    volume = _amount("volume_30d_usd", body.get("volume_30d_usd", "0"))
    return balances, volume


async def create_account(runtime: EmulatorRuntime, request: Request) -> JSONResponse:
    body = await request.body()
    try:
        if len(body) > MAX_BODY:
            raise AdminError("body too large")
        try:
            payload: Any = json.loads(body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise AdminError("the body is not valid JSON") from None
        balances, volume = parse_balances(payload, runtime.catalogue.assets())
    except AdminError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    key, secret = runtime.exchange.create_account(balances, volume_30d_usd=volume)
    return JSONResponse({"api_key": key, "api_secret": secret})


async def regimes(runtime: EmulatorRuntime, request: Request) -> JSONResponse:
    return JSONResponse(runtime.regimes())
