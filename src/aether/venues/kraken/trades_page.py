"""One page of Kraken's public REST ``Trades`` as trade prints, and its ``last`` cursor.

Kraken's "Get Recent Trades" (docs.kraken.com/api/docs/rest-api/get-recent-trades) answers
``{"<PAIR KEY>": [[price, volume, time, "b"|"s", "m"|"l", misc, trade_id], ...],
"last": "<ns>"}``: prices and volumes are decimal strings, ``time`` is fractional unix
seconds (a JSON number), ``trade_id`` an integer, and ``last`` the nanosecond cursor to pass
as ``since`` for the next page. Up to ``count`` (1-1000, default 1000) trades after ``since``.

Every print of a parsed page carries its ``trade_id`` and ``side`` (``buy``/``sell``, the
taker's); anything malformed refuses the whole page with :class:`TradesPageError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aether.domain.events import Tick
from aether.domain.money import as_decimal

__all__ = ["TradesPage", "TradesPageError", "parse_trades_page"]

NS = 1_000_000_000
_SIDES: Mapping[str, str] = {"b": "buy", "s": "sell"}


class TradesPageError(ValueError):
    """A ``Trades`` answer in a shape Aether does not accept; the message names the pair,
    and the row when one is at fault."""


@dataclass(frozen=True, slots=True)
class TradesPage:
    trades: list[Tick]
    last_ns: int


def _time_ns(value: object) -> int:
    # The JSON float's shortest repr is the text Kraken sent (to a double's precision), so
    # going through str keeps the printed digits instead of binary noise.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"time {value!r} is not a number")
    seconds = Decimal(str(value))
    if not seconds.is_finite() or seconds < 0:
        raise ValueError(f"time {value!r} is not a non-negative number")
    return int(seconds * NS)


def _positive(value: object, name: str) -> Decimal:
    if not isinstance(value, str):
        raise ValueError(f"{name} {value!r} is not a decimal string")
    number = as_decimal(value, name)  # an InvalidValueError (a ValueError) names the field
    if number <= 0:
        raise ValueError(f"{name} {value!r} must be positive")
    return number


def _trade(symbol: str, row: object) -> Tick:
    if not isinstance(row, list) or len(row) < 7:
        raise ValueError(f"expected [price, volume, time, side, type, misc, trade_id], got {row!r}")
    price, volume, time, side, _, _, trade_id = row[:7]
    if side not in _SIDES:
        raise ValueError(f"side {side!r} is not 'b' or 's'")
    if isinstance(trade_id, bool) or not isinstance(trade_id, int) or trade_id < 0:
        raise ValueError(f"trade_id {trade_id!r} is not a non-negative integer")
    ts_ns = _time_ns(time)  # time is checked before price and volume, as it always was
    price_d, volume_d = _positive(price, "price"), _positive(volume, "volume")
    return Tick(symbol, price_d, volume_d, ts_ns, trade_id, _SIDES[side])


def parse_trades_page(result: Any, symbol: str, pair_key: str) -> TradesPage:
    """The trades of ``symbol`` (altname; answered under ``pair_key`` or the altname) and
    the ``last`` cursor; TradesPageError naming the pair and row for anything malformed."""
    where = f"Kraken Trades {symbol}"
    if not isinstance(result, dict):
        raise TradesPageError(f"{where}: result is not an object: {str(result)[:200]}")
    rows = result.get(pair_key, result.get(symbol))
    if not isinstance(rows, list):
        keys = sorted(k for k in result if k != "last")
        raise TradesPageError(f"{where}: no trade list under {pair_key!r} (keys: {keys})")
    try:
        last_ns = int(str(result.get("last")))
    except ValueError:
        raise TradesPageError(f"{where}: 'last' {result.get('last')!r} is not an integer") from None
    trades = []
    for index, row in enumerate(rows):
        try:
            trades.append(_trade(symbol, row))
        except (ValueError, ArithmeticError) as exc:
            raise TradesPageError(f"{where}: trade {index} of the page: {exc}") from None
    return TradesPage(trades, last_ns)
