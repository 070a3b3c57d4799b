"""The emulator's own admin routes (not Kraken's): create funded accounts (with a rate-limit
``tier``), read the synthetic market's true regimes, inject faults. Errors are plain JSON
``{"error": "<message>"}`` with HTTP 400, since no Kraken client ever calls these."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from aether.emulator.faults import FaultError, parse_faults
from aether.emulator.kraken_format import internal_asset
from aether.emulator.rate_limits import Tier
from aether.emulator.runtime import EmulatorRuntime

__all__ = ["create_account", "faults", "parse_balances", "regimes"]

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


def _json(body: bytes) -> Any:
    if len(body) > MAX_BODY:
        raise AdminError("body too large")
    try:
        return json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise AdminError("the body is not valid JSON") from None


def _tier(payload: Any) -> tuple[Any, Tier | None]:
    """Take the optional ``"tier"`` (starter, intermediate, pro) out of an account body."""
    if not isinstance(payload, dict) or "tier" not in payload:
        return payload, None
    raw = payload["tier"]
    known = [t.value for t in Tier]
    if not isinstance(raw, str) or raw not in known:
        raise AdminError(f"tier: {raw!r} is not one of {', '.join(known)}")
    return {k: v for k, v in payload.items() if k != "tier"}, Tier(raw)


async def create_account(runtime: EmulatorRuntime, request: Request) -> JSONResponse:
    try:
        payload, tier = _tier(_json(await request.body()))
        balances, volume = parse_balances(payload, runtime.catalogue.assets())
    except AdminError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    key, secret = runtime.exchange.create_account(balances, volume_30d_usd=volume)
    if tier is not None:
        runtime.rate_limits.set_tier(key, tier)
    return JSONResponse({"api_key": key, "api_secret": secret})


async def regimes(runtime: EmulatorRuntime, request: Request) -> JSONResponse:
    return JSONResponse(runtime.regimes())


async def calls(runtime: EmulatorRuntime, request: Request) -> JSONResponse:
    """``GET /emulator/calls``: private REST calls received since start, by method."""
    counted = runtime.private_calls
    return JSONResponse({"private": dict(counted), "private_total": counted.total()})


async def faults(runtime: EmulatorRuntime, request: Request) -> JSONResponse:
    """``GET /emulator/faults``: the faults in force; ``POST`` puts more in force (see
    :func:`aether.emulator.faults.parse_faults`) and answers the new state."""
    if request.method == "POST":
        try:
            runtime.faults.apply(parse_faults(_json(await request.body())))
        except (AdminError, FaultError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(runtime.faults.state())
