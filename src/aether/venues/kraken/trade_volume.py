"""Kraken's private ``TradeVolume`` as the account's fee rates per pair, exact Decimals.

Kraken's "Get Trade Volume" (docs.kraken.com/api/docs/rest-api/get-trade-volume) answers
``{"currency": "ZUSD", "volume": "<30-day USD>", "fees": {"<PAIR KEY>": tier},
"fees_maker": {"<PAIR KEY>": tier}}``: ``fees`` holds the taker side and ``fees_maker`` the
maker side; a pair not on a maker/taker schedule appears in ``fees`` only, and that one rate
applies to both sides. A tier is ``{"fee", "minfee", "maxfee", "nextfee", "nextvolume",
"tiervolume"}`` (the reference's example spells them ``min_fee``, ``max_fee``, ``next_fee``,
``next_volume``, ``tier_volume``: both spellings are read). Rates are percent strings
(``"0.2600"``), volumes USD strings; ``nextfee``/``nextvolume`` are null at the top tier.

Rates are returned as fractions (``0.0026`` for ``"0.2600"``), as Aether's fee schedules keep
them. Anything malformed, or a pair asked for and not answered, refuses the whole answer with
:class:`TradeVolumeError` naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aether.domain.money import as_decimal

__all__ = ["PairFees", "SideTier", "TradeVolume", "TradeVolumeError", "parse_trade_volume"]

_HUNDRED = Decimal(100)


class TradeVolumeError(ValueError):
    """A ``TradeVolume`` answer in a shape Aether does not accept; the message names the field."""


@dataclass(frozen=True, slots=True)
class SideTier:
    """One side's tier on a pair: the rate now, and the next tier's rate and volume if any."""

    fee: Decimal
    next_fee: Decimal | None
    next_volume_usd: Decimal | None
    tier_volume_usd: Decimal


@dataclass(frozen=True, slots=True)
class PairFees:
    """The account's rates on one pair (fractions: ``0.0026`` is 0.26 %)."""

    pair: str
    maker: Decimal
    taker: Decimal
    maker_tier: SideTier
    taker_tier: SideTier


@dataclass(frozen=True, slots=True)
class TradeVolume:
    """The account's 30-day volume (in ``currency``, Kraken's ``ZUSD``) and its fees by
    the altname each pair was asked by."""

    currency: str
    volume: Decimal
    fees: Mapping[str, PairFees]


def _field(entry: Mapping[str, Any], name: str) -> object:
    """A tier field by Kraken's compact name or its underscored spelling (``next_fee``)."""
    if name in entry:
        return entry[name]
    spelled = name.replace("fee", "_fee").replace("volume", "_volume").lstrip("_")
    return entry.get(spelled)


def _number(value: object, where: str) -> Decimal:
    if not isinstance(value, str):
        raise TradeVolumeError(f"{where}: {value!r} is not a decimal string")
    try:
        number = as_decimal(value, where)
    except ValueError as exc:
        raise TradeVolumeError(str(exc)) from None
    if number < 0:
        raise TradeVolumeError(f"{where}: {value!r} must not be negative")
    return number


def _rate(value: object, where: str) -> Decimal:
    percent = _number(value, where)
    if percent >= _HUNDRED:
        raise TradeVolumeError(f"{where}: {value!r} is not a percent below 100")
    return percent.scaleb(-2)  # exact: the digits move, nothing is divided


def _maybe(read: Callable[[object, str], Decimal], value: object, where: str) -> Decimal | None:
    """``read(value)``, or None for Kraken's null (the next tier, at the top tier)."""
    return None if value is None else read(value, where)


def _tier(entry: object, where: str) -> SideTier:
    if not isinstance(entry, Mapping):
        raise TradeVolumeError(f"{where}: not an object: {str(entry)[:200]}")
    return SideTier(
        fee=_rate(_field(entry, "fee"), f"{where}.fee"),
        next_fee=_maybe(_rate, _field(entry, "nextfee"), f"{where}.nextfee"),
        next_volume_usd=_maybe(_number, _field(entry, "nextvolume"), f"{where}.nextvolume"),
        tier_volume_usd=_number(_field(entry, "tiervolume"), f"{where}.tiervolume"),
    )


def parse_trade_volume(
    result: Any, pairs: Sequence[str], key_of: Callable[[str], str | None]
) -> TradeVolume:
    """The volume and the fees of each of ``pairs`` (altnames), each found in the answer
    under ``key_of(altname)`` (its pair key, when known) or under the altname itself."""
    if not isinstance(result, Mapping):
        raise TradeVolumeError(f"Kraken TradeVolume: result is not an object: {str(result)[:200]}")
    currency = result.get("currency")
    if not isinstance(currency, str) or not currency:
        raise TradeVolumeError(f"Kraken TradeVolume.currency: {currency!r} is not a currency")
    volume = _number(result.get("volume"), "Kraken TradeVolume.volume")
    taker_side = result.get("fees", {}) if pairs else {}
    maker_side = result.get("fees_maker", {}) if pairs else {}
    for name, side in (("fees", taker_side), ("fees_maker", maker_side)):
        if not isinstance(side, Mapping):
            raise TradeVolumeError(f"Kraken TradeVolume.{name}: not an object")
    fees: dict[str, PairFees] = {}
    for altname in pairs:
        key = key_of(altname)
        found = key if key is not None and key in taker_side else altname
        if found not in taker_side:
            raise TradeVolumeError(f"Kraken TradeVolume.fees: no entry for {altname}")
        taker = _tier(taker_side[found], f"Kraken TradeVolume.fees[{found}]")
        # No maker entry: the pair is not on a maker/taker schedule, one rate for both.
        maker = (
            _tier(maker_side[found], f"Kraken TradeVolume.fees_maker[{found}]")
            if found in maker_side
            else taker
        )
        fees[altname] = PairFees(altname, maker.fee, taker.fee, maker, taker)
    return TradeVolume(currency, volume, fees)
