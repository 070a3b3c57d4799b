"""Pair names as people and clients type them, normalised to the registry's symbols.

The spellings accepted (``XBTUSD``, ``XXBTZUSD``, ``XBT/USD``, ``BTC/USD``, ``btc-usd``,
``BTCUSD``) and the one normaliser, :class:`PairNames`, live in
``aether.venues.kraken.pair_names`` (below ``marketdata``, so adapters can use them too).
This module adds the pairs of the instrument registry: the rows it
stored, or the online pairs of its last load; where no registry has ever loaded, the shipped
instrument snapshot's. Every pair of these sources is a spot USD pair, so a pair quoted in
anything else is refused like an unknown one, by :class:`UnknownPairError` naming what was
typed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.bus.subjects import is_symbol
from aether.storage.tables import InstrumentRow
from aether.venues.kraken.pair_names import (
    IN_REGISTRY,
    PairNames,
    kraken_symbol,
    shipped_pair_names,
)

__all__ = ["canonical_pair", "registry_pair_names"]


async def registry_pair_names(session: AsyncSession) -> PairNames:
    """Every pair the registry stored, whatever its status; the shipped snapshot's pairs
    while the registry has stored none (it has never loaded on this database)."""
    rows = (
        await session.execute(
            select(
                InstrumentRow.symbol,
                InstrumentRow.pair_key,
                InstrumentRow.base,
                InstrumentRow.quote,
            )
        )
    ).all()
    if not rows:
        return shipped_pair_names()
    return PairNames((kraken_symbol(*row) for row in rows), IN_REGISTRY)


async def canonical_pair(session: AsyncSession, typed: str) -> str:
    """The registry's symbol for ``typed``, else UnknownPairError naming what was typed."""
    # The usual case, an altname as stored, costs one key lookup instead of every name.
    if is_symbol(typed):
        stored = await session.scalar(
            select(InstrumentRow.symbol).where(InstrumentRow.symbol == typed)
        )
        if stored is not None:
            return stored
    return (await registry_pair_names(session)).canonical(typed)
