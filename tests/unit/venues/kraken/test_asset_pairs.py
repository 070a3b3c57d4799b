"""AssetPairs -> instruments: USD spot pairs that are online, every other pair skipped with
the reason."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from aether.domain.instruments import FeeSchedule
from aether.venues.kraken.asset_pairs import instruments_from_asset_pairs


def pair(altname: str, wsname: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "altname": altname,
        "wsname": wsname,
        "aclass_base": "currency",
        "aclass_quote": "currency",
        "pair_decimals": 1,
        "lot_decimals": 8,
        "ordermin": "0.0001",
        "costmin": "0.5",
        "tick_size": "0.1",
        "status": "online",
        "fees": [[0, 0.4], [10000, 0.35]],
        "fees_maker": [[0, 0.25], [10000, 0.2]],
    }
    body.update(overrides)
    return body


RESULT = {
    "XXBTZUSD": pair("XBTUSD", "XBT/USD"),
    "XXBTZEUR": pair("XBTEUR", "XBT/EUR"),
    "XBTUSDT": pair("XBTUSDT", "XBT/USDT"),
    "XETHZUSD": pair("ETHUSD", "ETH/USD", status="cancel_only"),
    "XDGUSD": pair("XDGUSD", "XDG/USD", fees=[], fees_maker=[]),
    "BADUSD": pair("BADUSD", "BAD/USD", ordermin="lots"),
    "FUTUSD": pair("FUTUSD", "FUT/USD", aclass_base="futures"),
}


def test_only_online_spot_usd_pairs_are_kept_with_exact_facts() -> None:
    load = instruments_from_asset_pairs(RESULT)
    assert list(load.instruments) == ["XBTUSD"]
    xbt = load.instruments["XBTUSD"]
    assert (xbt.base, xbt.quote, xbt.tick_size, xbt.lot_size) == ("XBT", "USD", D("0.1"), D("1E-8"))
    assert (xbt.min_quantity, xbt.min_cost) == (D("0.0001"), D("0.5"))
    assert xbt.fees.tier_for(D(0)).taker == D("0.004")
    assert xbt.fees.tier_for(D(20000)).maker == D("0.002")
    assert load.skipped == {
        "XBTEUR": "quoted in EUR, not USD",
        "XBTUSDT": "quoted in USDT, not USD",
        "ETHUSD": "status is 'cancel_only', not online",
        "XDGUSD": "no fee schedule (empty fees) and no default",
        "BADUSD": "ordermin 'lots' is not a number",
        "FUTUSD": "asset classes ('futures', 'currency') are not spot currencies",
    }


def test_stablecoin_quotes_only_when_configured_and_default_fees_fill_gaps() -> None:
    default = FeeSchedule.flat(D("0.0025"), D("0.004"))
    load = instruments_from_asset_pairs(RESULT, extra_usd_quotes={"USDT"}, default_fees=default)
    assert set(load.instruments) == {"XBTUSD", "XBTUSDT", "XDGUSD"}
    assert load.instruments["XDGUSD"].fees is default
