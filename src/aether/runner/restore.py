"""A live account's portfolio when its runner starts: Kraken's balances are the truth.

USD is the cash; each traded pair's base holding is brought in as one lot, at the average
cost of its open FIFO lots when the recorded fills explain the holding exactly, else at the
venue's last price. (A paper account's portfolio is its starting cash and fills replayed:
:func:`aether.oms.portfolio_replay.replay_fills`.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from aether.domain.executions import Fill
from aether.domain.instruments import Instrument
from aether.domain.money import ZERO
from aether.engine.portfolio import Portfolio
from aether.oms.portfolio_replay import replay_fills

__all__ = ["RestoreError", "live_portfolio"]


class RestoreError(ValueError):
    """The persisted state cannot be replayed (a fill the balances cannot pay for)."""


def live_portfolio(
    instruments: Mapping[str, Instrument],
    balances: Mapping[str, Decimal],
    fills: Sequence[Fill],
    last_prices: Mapping[str, Decimal],
) -> Portfolio:
    """A live account's portfolio from the venue's ``balances`` (asset -> total)."""
    portfolio = Portfolio(instruments, balances.get("USD", ZERO))
    replayed = replay_fills(instruments, fills, None).portfolio.positions()
    for symbol, instrument in instruments.items():
        held = balances.get(instrument.base, ZERO)
        if held <= ZERO:
            continue
        known = replayed.get(symbol)
        if known is not None and known.quantity == held:
            price = known.cost / held
        elif symbol in last_prices:
            price = last_prices[symbol]
        else:
            raise RestoreError(f"{symbol}: the account holds {held} but no price is known")
        portfolio.bring_in(symbol, held, price)
    return portfolio
