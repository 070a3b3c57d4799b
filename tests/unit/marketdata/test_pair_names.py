"""The pair-name normaliser: every common spelling leads to the altname, nothing else does."""

from __future__ import annotations

import pytest

from aether.venues.kraken.pair_names import (
    IN_ONLINE_REGISTRY,
    IN_SNAPSHOT,
    PairNames,
    UnknownPairError,
    kraken_symbol,
    shipped_pair_names,
)
from aether.venues.kraken.symbols import shipped_symbols

BITCOIN = [
    "XBTUSD",
    "BTC/USD",
    "XBT/USD",
    "XXBTZUSD",
    "xbtusd",
    "btc/usd",
    "xbt/usd",
    "xxbtzusd",
    "BTC-USD",
    "btc-usd",
    "BTCUSD",
    " BTC/USD ",
]


@pytest.mark.parametrize("typed", BITCOIN)
def test_every_common_spelling_of_bitcoin_is_xbtusd(typed: str) -> None:
    assert shipped_pair_names().canonical(typed) == "XBTUSD"


def test_each_shipped_pair_is_found_under_each_of_its_kraken_names() -> None:
    names = shipped_pair_names()
    for symbol in shipped_symbols():
        for typed in (symbol.altname, symbol.pair_key, symbol.wsname, symbol.ws_symbol):
            assert names.canonical(typed) == symbol.altname, typed
            assert names.canonical(typed.lower()) == symbol.altname, typed
    assert names.symbols == {s.altname for s in shipped_symbols()}


def test_dogecoin_is_found_under_both_asset_codes() -> None:
    names = shipped_pair_names()
    for typed in ("XDGUSD", "XDG/USD", "DOGE/USD", "DOGEUSD", "doge-usd"):
        assert names.canonical(typed) == "XDGUSD", typed
    # XDGUSD's REST key is its altname; the X/Z-prefixed form is no name of it.
    assert names.find("XXDGZUSD") is None


@pytest.mark.parametrize(
    "typed",
    [
        "ETH/BTC",  # listed by Kraken, quoted in XBT
        "XETHXXBT",  # its REST pair key
        "ETHXBT",  # its altname
        "XBT/EUR",
        "XXBTZEUR",
        "FOOUSD",
        "FOO/USD",
        "USD",
        "",
        "   ",
        "BTC//USD",
        "BTC/USD/EUR",
        "BTC USD",
        "XBT\x00USD",
        "XBTUSD" * 10,
    ],
)
def test_unknown_and_non_usd_pairs_are_refused_naming_what_was_typed(typed: str) -> None:
    names = shipped_pair_names()
    assert names.find(typed) is None
    with pytest.raises(UnknownPairError) as refused:
        names.canonical(typed)
    message = str(refused.value)
    assert message.startswith(repr(typed[:40]))
    assert f"is not {IN_SNAPSHOT}" in message
    assert "XBTUSD, BTC/USD" in message  # how to name a pair instead
    assert refused.value.typed == typed


def test_a_long_typed_name_is_shortened_in_the_refusal() -> None:
    typed = "Q" * 500
    with pytest.raises(UnknownPairError) as refused:
        shipped_pair_names().canonical(typed)
    assert len(str(refused.value)) < 200
    assert refused.value.shown == repr("Q" * 40) + "..."


def test_a_name_two_pairs_share_is_refused_and_an_altname_names_its_own_pair() -> None:
    # A made-up pair whose altname is another pair's v2 spelling without the slash.
    names = PairNames(
        [
            kraken_symbol("XBTUSD", "XXBTZUSD", "XBT", "USD"),
            kraken_symbol("BTCUSD", None, "BTC", "USD"),
        ],
        IN_ONLINE_REGISTRY,
    )
    assert names.find("BTCUSD") == "BTCUSD"
    assert names.find("XBT/USD") == "XBTUSD"
    assert names.find("XXBTZUSD") == "XBTUSD"
    assert names.find("BTC/USD") is None  # both pairs would answer to it
    with pytest.raises(UnknownPairError, match="is not an online USD pair of the instrument"):
        names.canonical("BTC/USD")


def test_a_pair_without_a_known_key_is_named_by_its_altname() -> None:
    symbol = kraken_symbol("SOLUSD", None, "SOL", "USD")
    assert (symbol.altname, symbol.pair_key, symbol.wsname, symbol.ws_symbol) == (
        "SOLUSD",
        "SOLUSD",
        "SOL/USD",
        "SOL/USD",
    )


def test_no_pairs_accept_no_name() -> None:
    names = PairNames((), IN_ONLINE_REGISTRY)
    assert names.symbols == frozenset()
    assert names.find("XBTUSD") is None
