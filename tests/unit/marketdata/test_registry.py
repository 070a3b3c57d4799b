"""The registry's translation of a load into rows: v2 names, exact facts, retired pairs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

from aether.marketdata.registry import (
    NOT_LISTED,
    ONLINE,
    instrument_values,
    online_pair_names,
    retired_statuses,
    ws_symbol_for,
)
from aether.venues.kraken.asset_pairs import instruments_from_asset_pairs

AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def listed(altname: str, wsname: str, **changes: Any) -> dict[str, Any]:
    """One AssetPairs entry with Kraken's field names."""
    entry: dict[str, Any] = {
        "altname": altname,
        "wsname": wsname,
        "pair_decimals": 2,
        "lot_decimals": 8,
        "ordermin": "0.00005",
        "costmin": "0.5",
        "tick_size": "0.01",
        "fees": [[0, 0.26], [50000, 0.24]],
        "fees_maker": [[0, 0.16], [50000, 0.14]],
    }
    entry.update(changes)
    return entry


def test_ws_symbols_follow_the_v2_asset_names() -> None:
    load = instruments_from_asset_pairs(
        {
            "XXBTZUSD": listed("XBTUSD", "XBT/USD"),
            "XDGUSD": listed("XDGUSD", "XDG/USD"),
            "XETHZUSD": listed("ETHUSD", "ETH/USD"),
        }
    )
    names = {s: ws_symbol_for(i) for s, i in load.instruments.items()}
    assert names == {"XBTUSD": "BTC/USD", "XDGUSD": "DOGE/USD", "ETHUSD": "ETH/USD"}


def test_row_values_keep_exact_decimals_and_fee_tiers_as_text() -> None:
    load = instruments_from_asset_pairs({"XXBTZUSD": listed("XBTUSD", "XBT/USD")})
    row = instrument_values(load.instruments["XBTUSD"], load.pair_keys["XBTUSD"], AT)
    assert row["status"] == ONLINE
    assert row["refreshed_at"] == AT
    assert (row["base"], row["quote"], row["ws_symbol"]) == ("XBT", "USD", "BTC/USD")
    assert row["pair_key"] == "XXBTZUSD"
    assert (row["tick_size"], row["min_quantity"], row["min_cost"]) == (
        D("0.01"),
        D("0.00005"),
        D("0.5"),
    )
    assert row["lot_size"] == D("1E-8")
    assert row["fees"] == [
        {"min_volume_usd": "0", "maker": "0.0016", "taker": "0.0026"},
        {"min_volume_usd": "50000", "maker": "0.0014", "taker": "0.0024"},
    ]
    assert all(isinstance(v, str) for tier in row["fees"] for v in tier.values())


def test_stored_pairs_that_went_offline_or_vanished_say_why() -> None:
    load = instruments_from_asset_pairs(
        {
            "XXBTZUSD": listed("XBTUSD", "XBT/USD"),
            "XETHZUSD": listed("ETHUSD", "ETH/USD", status="cancel_only"),
            "XETHXXBT": listed("ETHXBT", "ETH/XBT"),
        }
    )
    statuses = retired_statuses({"XBTUSD", "ETHUSD", "LTCUSD"}, load)
    assert statuses == {
        "ETHUSD": "skipped: status is 'cancel_only', not online",
        "LTCUSD": NOT_LISTED,
    }
    # Pairs never stored are not retired: only the registry's own rows change status.
    assert "ETHXBT" not in statuses


def test_a_load_names_its_online_pairs_by_every_kraken_spelling() -> None:
    load = instruments_from_asset_pairs(
        {
            "XXBTZUSD": listed("XBTUSD", "XBT/USD"),
            "XDGUSD": listed("XDGUSD", "XDG/USD"),
            "XETHXXBT": listed("ETHXBT", "ETH/XBT"),
        }
    )
    assert load.pair_keys == {"XBTUSD": "XXBTZUSD", "XDGUSD": "XDGUSD"}
    names = online_pair_names(load)
    assert names.symbols == {"XBTUSD", "XDGUSD"}
    assert {names.find(t) for t in ("XXBTZUSD", "BTC/USD", "XBT/USD", "btcusd")} == {"XBTUSD"}
    assert {names.find(t) for t in ("DOGE/USD", "doge-usd", "XDG/USD")} == {"XDGUSD"}
    # Kraken lists the pair, but it is quoted in XBT: no spelling of it is accepted.
    assert [names.find(t) for t in ("ETHXBT", "ETH/BTC", "XETHXXBT")] == [None, None, None]
