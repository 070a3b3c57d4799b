"""Instruments as the order service trades them: the registry's online pairs.

Where the registry has stored no pair at all (it never loaded on this database), the shipped
instrument snapshot stands in, as it does for pair names (``marketdata.pair_names``). A pair
the registry stored as anything but online is not tradable.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.instruments import FeeSchedule, FeeTier, Instrument
from aether.storage.tables import InstrumentRow
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

ONLINE = "online"


def instrument_of(row: InstrumentRow) -> Instrument:
    tiers = tuple(
        FeeTier(Decimal(t["min_volume_usd"]), Decimal(t["maker"]), Decimal(t["taker"]))
        for t in row.fees
    )
    return Instrument(
        symbol=row.symbol,
        base=row.base,
        quote=row.quote,
        tick_size=row.tick_size,
        lot_size=row.lot_size,
        min_quantity=row.min_quantity,
        min_cost=row.min_cost,
        fees=FeeSchedule(tiers),
        venue=row.venue,
    )


async def tradable_instrument(session: AsyncSession, symbol: str) -> Instrument | None:
    """The online instrument ``symbol`` (a REST altname), or None."""
    row = await session.get(InstrumentRow, symbol)
    if row is not None:
        return instrument_of(row) if row.status == ONLINE else None
    if await session.scalar(select(exists().where(InstrumentRow.symbol.is_not(None)))):
        return None
    return _shipped().get(symbol)


@cache
def _shipped() -> Mapping[str, Instrument]:
    return load_instrument_snapshot()
