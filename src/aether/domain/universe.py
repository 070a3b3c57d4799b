"""The tradable universe: Kraken spot pairs quoted in USD, nothing else.

Spot only, no leverage, no derivatives. Stablecoin-quoted pairs (USDT, USDC, ...) are not USD
pairs unless a caller lists that quote explicitly in ``extra_usd_quotes``.
"""

from __future__ import annotations

from collections.abc import Collection

from aether.domain.instruments import Instrument, InstrumentKind

USD = "USD"
#: Kraken's asset code for the US dollar in REST responses.
KRAKEN_USD_CODES = frozenset({"USD", "ZUSD"})


class NotSpotUsdError(ValueError):
    """The instrument is outside the tradable universe; the message says why."""


def require_spot_usd(
    instrument: Instrument, extra_usd_quotes: Collection[str] = frozenset()
) -> Instrument:
    """Return ``instrument`` if it is a Kraken spot pair quoted in USD, else raise."""
    problems = []
    if instrument.venue != "kraken":
        problems.append(f"venue is {instrument.venue!r}, not 'kraken'")
    if instrument.kind is not InstrumentKind.SPOT:
        problems.append(f"kind is {instrument.kind.value!r}: only spot is traded")
    if instrument.quote not in KRAKEN_USD_CODES and instrument.quote not in extra_usd_quotes:
        problems.append(f"quoted in {instrument.quote!r}, not USD")
    if problems:
        raise NotSpotUsdError(f"{instrument.symbol} is not tradable: " + "; ".join(problems))
    return instrument


def is_spot_usd(instrument: Instrument, extra_usd_quotes: Collection[str] = frozenset()) -> bool:
    try:
        require_spot_usd(instrument, extra_usd_quotes)
    except NotSpotUsdError:
        return False
    return True
