"""The pairs an import may write: Kraken spot USD pairs of the shipped instrument snapshot."""

from __future__ import annotations

from aether.domain.instruments import Instrument
from aether.domain.universe import NotSpotUsdError, require_spot_usd
from aether.marketdata.imports.errors import ImportInputError
from aether.marketdata.snapshot import load_instrument_snapshot


def spot_usd_pair(name: str) -> Instrument:
    """The instrument of Kraken altname ``name`` (``XBTUSD``; case is ignored), else
    ImportInputError naming the pair and listing the known ones."""
    instruments = load_instrument_snapshot()
    instrument = instruments.get(name.strip().upper())
    if instrument is None:
        known = ", ".join(sorted(instruments))
        raise ImportInputError(
            f"pair {name!r} is not a Kraken spot USD pair of the instrument snapshot "
            f"(known: {known})"
        )
    try:
        return require_spot_usd(instrument)
    except NotSpotUsdError as exc:
        raise ImportInputError(f"pair {name!r}: {exc}") from None
