"""Kraken's private ``TradeVolume``: the account's 30-day USD volume and, for each pair asked,
the fee tier that volume earns, taker side in ``fees`` and maker side in ``fees_maker``.

The answer, as Kraken documents it (docs.kraken.com, "Get Trade Volume")::

    {"currency": "ZUSD", "volume": "12345.6789",
     "fees": {"XXBTZUSD": {"fee": "0.3500", "minfee": "0.1000", "maxfee": "0.4000",
                           "nextfee": "0.2400", "nextvolume": "50000.0000",
                           "tiervolume": "10000.0000"}},
     "fees_maker": {"XXBTZUSD": {...the same fields for the maker rates...}}}

Rates are percent and volumes USD, as strings with 4 decimals; ``nextfee`` and
``nextvolume`` are null at the top tier. ``pair`` is a comma-separated list of altnames or
pair keys (``XBTUSD``, ``XXBTZUSD``, also written ``XXBT/ZUSD``); without it the answer has no
fees (Kraken's fees differ by pair). A pair the emulator does not trade is
``EQuery:Unknown asset pair``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aether.domain.instruments import FeeTier
from aether.emulator.exchange.errors import UNKNOWN_ASSET_PAIR, ExchangeError
from aether.emulator.kraken_format import PairInfo, asset_code, fmt
from aether.emulator.rest.protocol import Params, opt_str
from aether.emulator.runtime import EmulatorRuntime

__all__ = ["trade_volume"]

_PLACES = 4
_VOLUME_CURRENCY = "USD"


def _pairs(runtime: EmulatorRuntime, text: str) -> list[PairInfo]:
    pairs: list[PairInfo] = []
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        pair = runtime.catalogue.find(name) or runtime.catalogue.find(name.replace("/", ""))
        if pair is None or not pair.tradable:
            raise ExchangeError(UNKNOWN_ASSET_PAIR)
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def _side(tiers: tuple[FeeTier, ...], tier: FeeTier, maker: bool) -> dict[str, str | None]:
    """One side's entry: the tier's rate, the schedule's range, the next tier if any."""

    def rate(t: FeeTier) -> str:
        return fmt((t.maker if maker else t.taker) * 100, _PLACES)

    later = [t for t in tiers if t.min_volume_usd > tier.min_volume_usd]
    rates = [(t.maker if maker else t.taker) * 100 for t in tiers]
    following = later[0] if later else None
    return {
        "fee": rate(tier),
        "minfee": fmt(min(rates), _PLACES),
        "maxfee": fmt(max(rates), _PLACES),
        "nextfee": rate(following) if following is not None else None,
        "nextvolume": fmt(following.min_volume_usd, _PLACES) if following is not None else None,
        "tiervolume": fmt(tier.min_volume_usd, _PLACES),
    }


def trade_volume(runtime: EmulatorRuntime, key: str, params: Params) -> Any:
    """The caller's 30-day volume, and its fee tier on each pair of ``pair``."""
    pairs = _pairs(runtime, opt_str(params, "pair") or "")
    now = runtime.now_ns()
    volume = Decimal(0)
    fees: dict[str, Any] = {}
    fees_maker: dict[str, Any] = {}
    for pair in pairs:
        volume, tier = runtime.exchange.fee_tier(key, pair.altname, now)
        tiers = runtime.exchange.pairs[pair.altname].fees.tiers
        fees[pair.key] = _side(tiers, tier, maker=False)
        fees_maker[pair.key] = _side(tiers, tier, maker=True)
    if not pairs:
        volume, _ = runtime.exchange.fee_tier(key, next(iter(runtime.exchange.pairs)), now)
    result: dict[str, Any] = {
        "currency": asset_code(_VOLUME_CURRENCY),
        "volume": fmt(volume, _PLACES),
    }
    if pairs:
        result["fees"] = fees
        result["fees_maker"] = fees_maker
    return result
