"""What the emulator's WebSocket v2 modules share: JSON with exact numbers, RFC 3339 times,
v2 symbols, Kraken's request/response envelope and the error strings the emulator answers.

Kraken's v2 messages carry prices and quantities as JSON *numbers* with the instrument's
precision (``30000.1``, ``0.50000000``); :func:`dumps` writes :class:`Num` values as is, so
no amount goes through a float.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aether.domain import decimal_json
from aether.domain.decimal_json import JsonNumber
from aether.emulator.kraken_format import PairCatalogue, PairInfo, fmt

__all__ = [
    "ALREADY_SUBSCRIBED",
    "INVALID_SESSION",
    "MALFORMED",
    "METHOD_NOT_FOUND",
    "NOT_SUBSCRIBED",
    "Num",
    "Symbols",
    "WsError",
    "dumps",
    "num",
    "reply",
    "rfc3339",
    "v2_asset",
]

# Kraken's WebSocket v2 answers. "Currency pair not supported <symbol>", "Already
# subscribed", "Subscription Not Found" and "ESession:Invalid session" are Kraken's
# wording as seen by clients; the malformed-request and unknown-method strings are the
# emulator's choice (Kraken does not document them).
ALREADY_SUBSCRIBED = "Already subscribed"
NOT_SUBSCRIBED = "Subscription Not Found"
INVALID_SESSION = "ESession:Invalid session"
MALFORMED = "EGeneral:Invalid arguments:Malformed request"
METHOD_NOT_FOUND = "Method not found"

#: v2 spells these assets by their common tickers; others are unchanged.
_V2_ASSETS = {"XBT": "BTC", "XDG": "DOGE"}


class Num(JsonNumber):
    """A JSON number, already written (``"30000.1"``): :func:`dumps` emits it unquoted."""

    __slots__ = ()


def num(value: Decimal, places: int) -> Num:
    """``value`` with exactly ``places`` decimals, as a JSON number."""
    return Num(fmt(value, places))


def dumps(value: Any) -> str:
    """Compact JSON where :class:`Num` and Decimal values are numbers written exactly."""
    return decimal_json.dumps(value, decimals="number")


def rfc3339(ns: int) -> str:
    """``2023-09-25T09:04:31.742599Z``: v2's timestamps (microseconds, UTC)."""
    seconds, rest = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest // 1000:06d}Z"


def v2_asset(asset: str) -> str:
    return _V2_ASSETS.get(asset, asset)


class WsError(Exception):
    """A request refused with ``error``; ``extra`` fields go into the response (``symbol``)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class Symbols:
    """The traded pairs by v2 symbol (``BTC/USD``) and by altname (``XBTUSD``)."""

    def __init__(self, catalogue: PairCatalogue) -> None:
        self.by_symbol: dict[str, PairInfo] = {}
        self.by_altname: dict[str, str] = {}
        for pair in catalogue:
            if not pair.tradable:
                continue
            symbol = f"{v2_asset(pair.base)}/{v2_asset(pair.quote)}"
            self.by_symbol[symbol] = pair
            self.by_altname[pair.altname] = symbol

    def pair(self, symbol: object) -> PairInfo:
        """The pair of a v2 symbol, or Kraken's "Currency pair not supported" error."""
        pair = self.by_symbol.get(symbol) if isinstance(symbol, str) else None
        if pair is None:
            raise WsError(f"Currency pair not supported {symbol}", symbol=symbol)
        return pair

    def symbol(self, altname: str) -> str:
        return self.by_altname[altname]


def reply(
    method: str,
    req_id: object,
    time_in: str,
    now: str,
    *,
    result: Any = None,
    error: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Kraken's response envelope: ``method``, ``req_id`` (when sent), ``success``,
    ``result`` or ``error``, ``time_in`` and ``time_out``."""
    message: dict[str, Any] = {"method": method}
    if req_id is not None:
        message["req_id"] = req_id
    if error is None:
        if result is not None:
            message["result"] = result
        message["success"] = True
    else:
        message["error"] = error
        message["success"] = False
        message.update(extra)
    message["time_in"] = time_in
    message["time_out"] = now
    return message
