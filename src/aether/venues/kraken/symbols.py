"""The four names Kraken gives one spot pair, and the way between them.

For Bitcoin against the dollar:

* REST altname ``XBTUSD``: Aether's instrument symbol, and what REST calls accept as ``pair``;
* REST pair key ``XXBTZUSD``: the key under which ``AssetPairs``, ``Ticker`` and ``Depth``
  answer (older pairs carry X/Z-prefixed asset codes, newer ones equal the altname);
* ``wsname`` ``XBT/USD``: the WebSocket v1 name;
* WebSocket v2 ``symbol`` ``BTC/USD``: v2 spells assets by their common tickers, so
  ``XBT`` becomes ``BTC`` and ``XDG`` becomes ``DOGE`` (Kraken's "Spot WebSocket" overview,
  "v2 vs v1": symbol format ``XBT/USD`` in v1, ``BTC/USD`` in v2).

The pairs come from the shipped instrument snapshot (``venues/kraken/data/
kraken_usd_instruments.json``), checked by the snapshot loader first. Names are matched
exactly (Kraken's are case-sensitive); an unknown name raises :class:`UnknownSymbolError`
listing the known ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

from aether.venues.kraken.instrument_snapshot import (
    load_instrument_snapshot,
    shipped_snapshot_path,
)

__all__ = [
    "V2_ASSET_NAMES",
    "KrakenSymbol",
    "SymbolMap",
    "UnknownSymbolError",
    "altname_for_pair_key",
    "altname_for_ws",
    "pair_key",
    "shipped_symbols",
    "v2_asset",
    "ws_symbol",
]

#: Kraken's own asset codes that WebSocket v2 spells differently; others are unchanged.
V2_ASSET_NAMES: Mapping[str, str] = MappingProxyType({"XBT": "BTC", "XDG": "DOGE"})


def v2_asset(asset: str) -> str:
    """An asset as WebSocket v2 spells it (``XBT`` -> ``BTC``)."""
    return V2_ASSET_NAMES.get(asset, asset)


class UnknownSymbolError(LookupError):
    """A pair name not in the map; the message names it and lists the known ones."""


@dataclass(frozen=True, slots=True)
class KrakenSymbol:
    """One pair under each of its names."""

    altname: str
    pair_key: str
    wsname: str
    ws_symbol: str

    @classmethod
    def from_assets(cls, altname: str, pair_key: str, base: str, quote: str) -> KrakenSymbol:
        """Derive both WebSocket names from the REST asset codes (``XBT``, ``USD``)."""
        return cls(altname, pair_key, f"{base}/{quote}", f"{v2_asset(base)}/{v2_asset(quote)}")


class SymbolMap:
    """Lookups by every name of a set of pairs; a name used by two pairs is refused."""

    def __init__(self, symbols: Iterable[KrakenSymbol]) -> None:
        self._by: dict[str, dict[str, KrakenSymbol]] = {
            "altname": {},
            "pair_key": {},
            "wsname": {},
            "ws_symbol": {},
        }
        for symbol in symbols:
            for kind, index in self._by.items():
                name = getattr(symbol, kind)
                if name in index:
                    raise ValueError(f"{kind} {name!r} names both {index[name]} and {symbol}")
                index[name] = symbol

    @classmethod
    def from_snapshot(cls, path: Path | None = None) -> SymbolMap:
        """The pairs of an instrument snapshot file (default: the shipped one)."""
        path = Path(path) if path is not None else shipped_snapshot_path()
        # The loader fails closed on any malformed field, so the raw read below is safe.
        load_instrument_snapshot(path)
        raw = json.loads(path.read_text(encoding="utf-8"))["instruments"]
        return cls(
            KrakenSymbol.from_assets(altname, body["kraken_pair"], body["base"], body["quote"])
            for altname, body in raw.items()
        )

    def __iter__(self) -> Iterator[KrakenSymbol]:
        return iter(self._by["altname"].values())

    def __len__(self) -> int:
        return len(self._by["altname"])

    def _get(self, kind: str, name: str) -> KrakenSymbol:
        index = self._by[kind]
        try:
            return index[name]
        except KeyError:
            known = ", ".join(sorted(index))
            raise UnknownSymbolError(f"unknown Kraken {kind} {name!r}; known: {known}") from None

    def by_altname(self, altname: str) -> KrakenSymbol:
        return self._get("altname", altname)

    def by_pair_key(self, pair_key: str) -> KrakenSymbol:
        return self._get("pair_key", pair_key)

    def by_wsname(self, wsname: str) -> KrakenSymbol:
        return self._get("wsname", wsname)

    def by_ws_symbol(self, symbol: str) -> KrakenSymbol:
        return self._get("ws_symbol", symbol)


@cache
def shipped_symbols() -> SymbolMap:
    """The pairs of the shipped snapshot (read once)."""
    return SymbolMap.from_snapshot()


def ws_symbol(altname: str) -> str:
    """``XBTUSD`` -> ``BTC/USD`` (WebSocket v2)."""
    return shipped_symbols().by_altname(altname).ws_symbol


def altname_for_ws(symbol: str) -> str:
    """``BTC/USD`` (WebSocket v2) -> ``XBTUSD``."""
    return shipped_symbols().by_ws_symbol(symbol).altname


def pair_key(altname: str) -> str:
    """``XBTUSD`` -> ``XXBTZUSD`` (the key of REST answers)."""
    return shipped_symbols().by_altname(altname).pair_key


def altname_for_pair_key(key: str) -> str:
    """``XXBTZUSD`` -> ``XBTUSD``."""
    return shipped_symbols().by_pair_key(key).altname
