"""The pairs an import may write: Kraken spot USD pairs of the shipped instrument snapshot."""

from __future__ import annotations

from aether.domain.instruments import Instrument
from aether.domain.universe import NotSpotUsdError, require_spot_usd
from aether.marketdata.imports.errors import ImportInputError
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot
from aether.venues.kraken.pair_names import UnknownPairError, shipped_pair_names


def spot_usd_pair(name: str) -> Instrument:
    """The instrument of the pair ``name`` spells (``XBTUSD``, ``BTC/USD``, ``XXBTZUSD``...:
    see ``pair_names``), else ImportInputError naming the pair and listing the known ones."""
    instruments = load_instrument_snapshot()
    try:
        symbol = shipped_pair_names().canonical(name)
    except UnknownPairError as exc:
        raise ImportInputError(f"{exc}; known: {', '.join(sorted(instruments))}") from None
    try:
        return require_spot_usd(instruments[symbol])
    except NotSpotUsdError as exc:
        raise ImportInputError(f"pair {name!r}: {exc}") from None
