"""Pair names as people and clients type them, normalised to the platform's symbol.

The platform's symbol is Kraken's REST altname (``XBTUSD``). Wherever a pair is typed (REST
routes, ``/ws/market``, the CLI's ``--pair``, an account's strategy pairs) these spellings all
name it, case ignored and surrounding blanks stripped:

* the altname ``XBTUSD`` and Kraken's REST pair key ``XXBTZUSD``;
* base and quote joined by ``/`` or ``-``, each asset under Kraken's code or the common
  ticker WebSocket v2 uses for it (``XBT``/``BTC``, ``XDG``/``DOGE``): ``XBT/USD`` (Kraken's
  ``wsname``), ``BTC/USD`` (its WebSocket v2 symbol), ``btc-usd``;
* the same two assets without a separator: ``BTCUSD``.

:class:`PairNames` is the one normaliser, over whichever pairs its caller knows: the instrument
registry's (``aether.marketdata.pair_names``, which reads the database) or, where no registry
is at hand (the CLI working offline, account configuration), the shipped instrument
snapshot's (:func:`shipped_pair_names`). It lives here, below ``marketdata``, because it needs
nothing but Kraken's names, so adapters (``aether.accounts``) can use it too. Every pair of
these sources is a spot USD pair, so a pair quoted in anything else (``ETH/BTC``,
``XETHXXBT``) is refused like an unknown one, by :class:`UnknownPairError` naming what was
typed. A name two pairs would share is dropped rather than guessed; an altname always names
its own pair.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from aether.venues.kraken.symbols import KrakenSymbol, shipped_symbols, v2_asset

__all__ = [
    "IN_ONLINE_REGISTRY",
    "IN_REGISTRY",
    "IN_SNAPSHOT",
    "PairNames",
    "UnknownPairError",
    "kraken_symbol",
    "shipped_pair_names",
]

#: What a source's pairs are, as the refusal says it ("... is not <this>").
IN_REGISTRY = "a USD pair of the instrument registry"
IN_ONLINE_REGISTRY = "an online USD pair of the instrument registry"
IN_SNAPSHOT = "a USD pair of the shipped instrument snapshot"

_HINT = "pairs are named like XBTUSD, BTC/USD, XBT/USD or XXBTZUSD"
_COMPACT = re.compile(r"[A-Z0-9]{2,32}")
_JOINED = re.compile(r"([A-Z0-9]{1,16})[/-]([A-Z0-9]{1,16})")
_SHOWN = 40  # longest typed text an error repeats in full


class UnknownPairError(ValueError):
    """A typed name that is no USD pair of the source; the message repeats what was typed."""

    def __init__(self, typed: str, described: str) -> None:
        self.typed = typed
        self.shown = repr(typed[:_SHOWN]) + ("..." if len(typed) > _SHOWN else "")
        self.refusal = f"{self.shown} is not {described}"
        super().__init__(f"{self.refusal} ({_HINT})")


def kraken_symbol(altname: str, pair_key: str | None, base: str, quote: str) -> KrakenSymbol:
    """One pair's names from the registry's facts; the altname stands in for an unknown key."""
    return KrakenSymbol.from_assets(altname, pair_key or altname, base, quote)


def _spellings(asset: str) -> set[str]:
    """An asset under Kraken's code and the common ticker (``XBT``, ``BTC``)."""
    return {asset.upper(), v2_asset(asset).upper()}


def _unique(names: dict[str, set[str]]) -> dict[str, str]:
    return {name: next(iter(owners)) for name, owners in names.items() if len(owners) == 1}


class PairNames:
    """Every accepted spelling of a set of pairs, each leading to the pair's altname."""

    def __init__(self, symbols: Iterable[KrakenSymbol], described: str) -> None:
        self.described = described
        compact: dict[str, set[str]] = {}
        joined: dict[str, set[str]] = {}
        altnames: set[str] = set()
        for symbol in symbols:
            altnames.add(symbol.altname)
            base, _, quote = symbol.wsname.partition("/")
            pairs = [(b, q) for b in _spellings(base) for q in _spellings(quote)]
            for name in (
                symbol.altname.upper(),
                symbol.pair_key.upper(),
                *(b + q for b, q in pairs),
            ):
                compact.setdefault(name, set()).add(symbol.altname)
            for b, q in pairs:
                joined.setdefault(f"{b}/{q}", set()).add(symbol.altname)
        self._compact = _unique(compact) | {a.upper(): a for a in altnames}
        self._joined = _unique(joined)
        self.symbols = frozenset(altnames)

    def find(self, typed: str) -> str | None:
        """The altname ``typed`` spells, or None."""
        text = typed.strip().upper()
        if _COMPACT.fullmatch(text):
            return self._compact.get(text)
        if match := _JOINED.fullmatch(text):
            return self._joined.get(f"{match[1]}/{match[2]}")
        return None

    def canonical(self, typed: str) -> str:
        """The altname ``typed`` spells, else UnknownPairError naming what was typed."""
        found = self.find(typed)
        if found is None:
            raise UnknownPairError(typed, self.described)
        return found


@cache
def shipped_pair_names() -> PairNames:
    """The pairs of the shipped instrument snapshot (for work without a registry)."""
    return PairNames(shipped_symbols(), IN_SNAPSHOT)
