"""Round trips from fills: each long trade from flat back to flat, with its fees and net PnL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from aether.backtest.results import RoundTrip
from aether.domain.executions import Fill
from aether.domain.instruments import Instrument
from aether.domain.money import ZERO, round_to_step
from aether.domain.orders import Side

NS = 1_000_000_000


@dataclass(slots=True)
class _Trip:
    entry_ts: int
    entry_step: Decimal
    exit_step: Decimal
    bought: Decimal = ZERO
    cost: Decimal = ZERO
    sold: Decimal = ZERO
    proceeds: Decimal = ZERO
    fees: Decimal = ZERO


def _finer(step: Decimal, price: Decimal) -> Decimal:
    """The finer of ``step`` and the last decimal place ``price`` was given with."""
    exponent = price.as_tuple().exponent
    assert isinstance(exponent, int)  # fills are finite
    return min(step, Decimal(1).scaleb(exponent))


def round_trips(
    fills: Sequence[Fill], reasons: Mapping[str, str], instruments: Mapping[str, Instrument]
) -> list[RoundTrip]:
    """Closed round trips in the order they closed; a position still open is not one.

    Average prices are rounded half-even to the finer of the instrument's tick and the finest
    decimal place of the fills' prices, so a trip of one entry and one exit fill reports those
    prices exactly as filled (a printed open from history need not be on today's tick).
    Fees must be in the quote currency (the SimBroker's and Kraken's default for USD pairs).
    ``reasons`` maps an order's cl_ord_id to its reason tag, reported as the exit reason.
    """
    trips: list[RoundTrip] = []
    held: dict[str, Decimal] = {}
    open_: dict[str, _Trip] = {}
    for fill in fills:
        symbol = fill.symbol
        trip = open_.get(symbol)
        if trip is None:
            if fill.side is not Side.BUY:
                raise ValueError(
                    f"fill {fill.trade_id}: a sell without a position (spot: long only)"
                )
            tick = instruments[symbol].tick_size
            trip = open_[symbol] = _Trip(fill.ts_ns // NS, tick, tick)
        trip.fees += fill.fee
        if fill.side is Side.BUY:
            trip.entry_step = _finer(trip.entry_step, fill.price)
            trip.bought += fill.quantity
            trip.cost += fill.notional
            held[symbol] = held.get(symbol, ZERO) + fill.quantity
            continue
        trip.exit_step = _finer(trip.exit_step, fill.price)
        trip.sold += fill.quantity
        trip.proceeds += fill.notional
        left = held[symbol] - fill.quantity
        held[symbol] = left
        if left > ZERO:
            continue
        del open_[symbol]
        trips.append(
            RoundTrip(
                symbol=symbol,
                entry_ts=trip.entry_ts,
                exit_ts=fill.ts_ns // NS,
                quantity=trip.bought,
                entry_price=round_to_step(trip.cost / trip.bought, trip.entry_step),
                exit_price=round_to_step(trip.proceeds / trip.sold, trip.exit_step),
                fees=trip.fees,
                pnl=trip.proceeds - trip.cost - trip.fees,
                exit_reason=reasons.get(fill.cl_ord_id, ""),
            )
        )
    return trips
