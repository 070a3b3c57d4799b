"""An account's fills replayed, in order, through the engine's :class:`Portfolio`: the one
definition of FIFO lots, realised PnL and fees.

Rules a caller must know:

* Fills are replayed oldest first (by time, then by fill id); each is booked once, keyed by
  venue and venue trade id.
* A paper account starts with its configured ``paper.starting_cash_usd``. A live account's
  cash is the venue's (``account_balances``), not derived here: its replay starts with just
  enough USD for every buy it recorded, so only the lots, PnL and fees it yields mean
  anything.
* A fill the FIFO cannot book (a sell of holdings the platform never bought, as a live
  account may hold) is not booked and is listed in ``unmatched`` by trade id, never guessed.
* Instruments come from the registry's stored rows whatever their status (a delisted pair
  still has fills), else the shipped snapshot; a pair known to neither is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.accounts.config import stored_config
from aether.domain.executions import Fill
from aether.domain.instruments import Instrument
from aether.domain.money import ZERO
from aether.domain.orders import Side
from aether.engine.portfolio import InsufficientFundsError, Portfolio
from aether.oms.fill_history import account_fills
from aether.oms.instruments import instrument_of
from aether.storage.tables import AccountRow, InstrumentRow
from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

QUOTE = "USD"


class UnknownInstrumentError(LookupError):
    """A pair an account traded is in neither the registry nor the shipped snapshot."""


@dataclass
class Replay:
    """The portfolio the account's fills build, and the fills it could not book."""

    portfolio: Portfolio
    fills: list[Fill]  # oldest first
    starting_cash: Decimal | None  # paper only
    unmatched: list[str] = field(default_factory=list)


@cache
def _shipped() -> Mapping[str, Instrument]:
    return load_instrument_snapshot()


async def instruments_of(session: AsyncSession, symbols: Iterable[str]) -> dict[str, Instrument]:
    """The instrument of each symbol; UnknownInstrumentError when one is known nowhere."""
    wanted = set(symbols)
    if not wanted:
        return {}
    rows = await session.scalars(select(InstrumentRow).where(InstrumentRow.symbol.in_(wanted)))
    found = {row.symbol: instrument_of(row) for row in rows}
    for symbol in sorted(wanted - set(found)):
        shipped = _shipped().get(symbol)
        if shipped is None:
            raise UnknownInstrumentError(f"pair {symbol} is not in the instrument registry")
        found[symbol] = shipped
    return found


async def usd_pair_of(session: AsyncSession, asset: str) -> str | None:
    """The USD pair whose base is ``asset`` (registry first, then the shipped snapshot)."""
    symbol = await session.scalar(
        select(InstrumentRow.symbol)
        .where(InstrumentRow.base == asset, InstrumentRow.quote == QUOTE)
        .order_by(InstrumentRow.symbol)
        .limit(1)
    )
    if symbol is not None:
        return str(symbol)
    shipped = sorted(s for s, i in _shipped().items() if i.base == asset and i.quote == QUOTE)
    return shipped[0] if shipped else None


def _live_budget(fills: Sequence[Fill]) -> Decimal:
    """USD enough for every buy: the notional plus any fee charged in USD."""
    return sum(
        (
            f.notional + (f.fee if f.fee_currency == QUOTE else ZERO)
            for f in fills
            if f.side is Side.BUY
        ),
        ZERO,
    )


def replay_fills(
    instruments: Mapping[str, Instrument], fills: Sequence[Fill], starting_cash: Decimal | None
) -> Replay:
    """Book ``fills`` in order on a new portfolio (paper: ``starting_cash``; live: None)."""
    cash = _live_budget(fills) if starting_cash is None else starting_cash
    replay = Replay(Portfolio(instruments, cash, QUOTE), list(fills), starting_cash)
    for fill in fills:
        try:
            replay.portfolio.apply_fill(fill)
        except InsufficientFundsError:
            # apply_fill checks funds before it changes anything: nothing was booked.
            replay.unmatched.append(fill.trade_id)
    return replay


async def replay_account(
    session: AsyncSession, account: AccountRow, extra_symbols: Iterable[str] = ()
) -> Replay:
    """The account's fills replayed; ``extra_symbols`` are added to the instruments known."""
    fills = await account_fills(session, account.id)
    symbols = {f.symbol for f in fills} | set(extra_symbols)
    instruments = await instruments_of(session, symbols)
    paper = account.mode != "live"
    starting_cash = stored_config(account.config).paper.starting_cash_usd if paper else None
    return replay_fills(instruments, fills, starting_cash)
