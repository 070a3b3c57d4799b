"""Kraken's four names for each shipped USD pair, and the lookups between them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aether.venues.kraken.instrument_snapshot import SnapshotError, shipped_snapshot_path
from aether.venues.kraken.symbols import (
    KrakenSymbol,
    SymbolMap,
    UnknownSymbolError,
    altname_for_pair_key,
    altname_for_ws,
    pair_key,
    shipped_symbols,
    v2_asset,
    ws_symbol,
)

# (altname, REST pair key, v1 wsname, v2 symbol), from the shipped snapshot and the v2 renames.
EXPECTED = [
    ("XBTUSD", "XXBTZUSD", "XBT/USD", "BTC/USD"),
    ("ETHUSD", "XETHZUSD", "ETH/USD", "ETH/USD"),
    ("SOLUSD", "SOLUSD", "SOL/USD", "SOL/USD"),
    ("XRPUSD", "XXRPZUSD", "XRP/USD", "XRP/USD"),
    ("ADAUSD", "ADAUSD", "ADA/USD", "ADA/USD"),
    ("DOTUSD", "DOTUSD", "DOT/USD", "DOT/USD"),
    ("LTCUSD", "XLTCZUSD", "LTC/USD", "LTC/USD"),
    ("LINKUSD", "LINKUSD", "LINK/USD", "LINK/USD"),
    ("XDGUSD", "XDGUSD", "XDG/USD", "DOGE/USD"),
    ("AVAXUSD", "AVAXUSD", "AVAX/USD", "AVAX/USD"),
]


def test_every_shipped_pair_has_the_expected_names() -> None:
    got = {(s.altname, s.pair_key, s.wsname, s.ws_symbol) for s in shipped_symbols()}
    assert got == set(EXPECTED)
    assert len(shipped_symbols()) == len(EXPECTED)


@pytest.mark.parametrize(("altname", "key", "wsname", "symbol"), EXPECTED)
def test_lookups_go_both_ways(altname: str, key: str, wsname: str, symbol: str) -> None:
    assert ws_symbol(altname) == symbol
    assert altname_for_ws(symbol) == altname
    assert pair_key(altname) == key
    assert altname_for_pair_key(key) == altname
    assert shipped_symbols().by_wsname(wsname).altname == altname


def test_v2_renames_xbt_and_xdg_only() -> None:
    assert v2_asset("XBT") == "BTC"
    assert v2_asset("XDG") == "DOGE"
    assert v2_asset("ETH") == "ETH"
    assert v2_asset("USD") == "USD"


@pytest.mark.parametrize("name", ["BTCUSD", "xbtusd", "XBT/USD", "FOOUSD", ""])
def test_an_unknown_altname_is_a_clear_error(name: str) -> None:
    with pytest.raises(UnknownSymbolError, match="altname") as caught:
        ws_symbol(name)
    assert repr(name) in str(caught.value)
    assert "XBTUSD" in str(caught.value)  # lists the known ones


@pytest.mark.parametrize("symbol", ["XBT/USD", "XDG/USD", "btc/usd", "BTCUSD"])
def test_v1_names_and_other_spellings_are_not_v2_symbols(symbol: str) -> None:
    with pytest.raises(UnknownSymbolError, match="ws_symbol"):
        altname_for_ws(symbol)


def test_an_unknown_pair_key_is_a_clear_error() -> None:
    with pytest.raises(UnknownSymbolError, match="XBTUSDT"):
        altname_for_pair_key("XBTUSDT")


def test_a_name_used_by_two_pairs_is_refused() -> None:
    one = KrakenSymbol.from_assets("XBTUSD", "XXBTZUSD", "XBT", "USD")
    other = KrakenSymbol("BTCUSD", "XBTCZUSD", "BTC/USD", "BTC/USD")
    with pytest.raises(ValueError, match="BTC/USD"):
        SymbolMap([one, other])


def test_a_malformed_snapshot_fails_closed(tmp_path: Path) -> None:
    raw = json.loads(shipped_snapshot_path().read_text(encoding="utf-8"))
    raw["instruments"]["XBTUSD"]["wsname"] = "BTC/USD"  # inconsistent with base XBT
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(SnapshotError, match="wsname"):
        SymbolMap.from_snapshot(path)


def test_a_snapshot_file_can_be_named(tmp_path: Path) -> None:
    raw = json.loads(shipped_snapshot_path().read_text(encoding="utf-8"))
    raw["instruments"] = {"XDGUSD": raw["instruments"]["XDGUSD"]}
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    only = SymbolMap.from_snapshot(path)
    assert [s.ws_symbol for s in only] == ["DOGE/USD"]
