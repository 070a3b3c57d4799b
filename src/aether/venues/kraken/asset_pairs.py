"""Kraken's AssetPairs as instruments: the registry's filter and translation.

Kept: spot currency pairs quoted in USD (stablecoin quotes only when configured) whose status
is ``online``. Every other pair is skipped with the reason, never silently. Base and quote
come from ``wsname`` (``XBT/USD``), the tick from ``tick_size`` (else ``10^-pair_decimals``),
the lot from ``lot_decimals``, minimums from ``ordermin``/``costmin``, and the fee schedule
from ``fees`` (taker) and ``fees_maker`` as ``[volume, percent]`` tiers. Kraken may send
empty fee arrays (the account's own rates come from TradeVolume); then ``default_fees``
applies, and without it the pair is skipped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from aether.domain.instruments import FeeSchedule, FeeTier, Instrument, InstrumentKind
from aether.domain.universe import NotSpotUsdError, require_spot_usd

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class PairsLoad:
    instruments: Mapping[str, Instrument]  # altname -> instrument
    skipped: Mapping[str, str]  # altname (or pair key) -> why it is not tradable
    pair_keys: Mapping[str, str] = field(default_factory=dict)  # kept altname -> REST pair key


class _Skip(Exception):
    """One pair cannot be used; the message says why."""


def _decimal(pair: Mapping[str, Any], field: str) -> Decimal:
    try:
        value = Decimal(str(pair[field]))
    except KeyError:
        raise _Skip(f"no {field}") from None
    except InvalidOperation:
        raise _Skip(f"{field} {pair[field]!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise _Skip(f"{field} {value} must be zero or more")
    return value


def _tiers(pair: Mapping[str, Any], field: str) -> list[tuple[Decimal, Decimal]]:
    rows = pair.get(field) or []
    try:
        return [(Decimal(str(v)), Decimal(str(p)) / HUNDRED) for v, p in rows]
    except (InvalidOperation, TypeError, ValueError):
        raise _Skip(f"{field} is not a list of [volume, percent]") from None


def _fees(pair: Mapping[str, Any], default: FeeSchedule | None) -> FeeSchedule:
    taker = _tiers(pair, "fees")
    maker = dict(_tiers(pair, "fees_maker"))
    if not taker:
        if default is None:
            raise _Skip("no fee schedule (empty fees) and no default")
        return default
    tiers = tuple(FeeTier(volume, maker.get(volume, rate), rate) for volume, rate in taker)
    try:
        return FeeSchedule(tiers)
    except ValueError as exc:
        raise _Skip(str(exc)) from None


def _instrument(
    pair: Mapping[str, Any], default_fees: FeeSchedule | None, extra: Collection[str]
) -> Instrument:
    status = pair.get("status", "online")
    if status != "online":
        raise _Skip(f"status is {status!r}, not online")
    classes = (pair.get("aclass_base", "currency"), pair.get("aclass_quote", "currency"))
    if classes != ("currency", "currency"):
        raise _Skip(f"asset classes {classes} are not spot currencies")
    base, sep, quote = str(pair.get("wsname", "")).partition("/")
    if not sep:
        raise _Skip("no wsname to name its base and quote")
    tick = (
        _decimal(pair, "tick_size")
        if pair.get("tick_size") is not None
        else Decimal(1).scaleb(-int(pair["pair_decimals"]))
    )
    try:
        instrument = Instrument(
            symbol=str(pair["altname"]),
            base=base,
            quote=quote,
            tick_size=tick,
            lot_size=Decimal(1).scaleb(-int(pair["lot_decimals"])),
            min_quantity=_decimal(pair, "ordermin"),
            min_cost=_decimal(pair, "costmin") if "costmin" in pair else Decimal(0),
            fees=_fees(pair, default_fees),
            kind=InstrumentKind.SPOT,
            venue="kraken",
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise _Skip(f"unusable facts: {exc}") from None
    try:
        return require_spot_usd(instrument, extra)
    except NotSpotUsdError:
        raise _Skip(f"quoted in {quote}, not USD") from None


def instruments_from_asset_pairs(
    result: Mapping[str, Any],
    *,
    extra_usd_quotes: Collection[str] = frozenset(),
    default_fees: FeeSchedule | None = None,
) -> PairsLoad:
    """The tradable instruments of an AssetPairs ``result``, and why the others are not."""
    kept: dict[str, Instrument] = {}
    skipped: dict[str, str] = {}
    pair_keys: dict[str, str] = {}
    for key, pair in result.items():
        name = str(pair.get("altname", key)) if isinstance(pair, Mapping) else str(key)
        if not isinstance(pair, Mapping):
            skipped[name] = "not an object"
            continue
        try:
            kept[name] = _instrument(pair, default_fees, extra_usd_quotes)
        except _Skip as why:
            skipped[name] = str(why)
        else:
            pair_keys[name] = str(key)
    return PairsLoad(kept, skipped, pair_keys)
