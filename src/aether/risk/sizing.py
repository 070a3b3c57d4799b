"""Position sizing: how much to buy, always net of expected fees and slippage.

Both methods return a quantity floored to the instrument's lot size, or zero when the result
would fall below the instrument's minimum quantity or cost (an order that could not be placed
is not sized at all). Caps from the risk limits are applied by the caller's ``max_notional``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aether.domain.instruments import Instrument
from aether.domain.money import ZERO, floor_to_step

BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Costs:
    """Expected costs of one fill: the fee rate (fraction) and adverse slippage (bps)."""

    fee_rate: Decimal
    slippage_bps: Decimal = ZERO

    def effective_price(self, price: Decimal) -> Decimal:
        """Price of one unit bought, slippage and fee included."""
        return price * (1 + self.slippage_bps / BPS) * (1 + self.fee_rate)


def _placeable(instrument: Instrument, quantity: Decimal, price: Decimal) -> Decimal:
    quantity = floor_to_step(quantity, instrument.lot_size)
    if quantity < instrument.min_quantity or quantity * price < instrument.min_cost:
        return ZERO
    return quantity


def fixed_fraction(
    instrument: Instrument,
    *,
    available_cash: Decimal,
    price: Decimal,
    fraction: Decimal,
    costs: Costs,
    max_notional: Decimal | None = None,
) -> Decimal:
    """Spend ``fraction`` of the available cash (1.0 = all of it, fees and slippage paid)."""
    if not ZERO < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    budget = available_cash * fraction
    if max_notional is not None:
        budget = min(budget, max_notional)
    return _placeable(instrument, budget / costs.effective_price(price), price)


def volatility_target(
    instrument: Instrument,
    *,
    equity: Decimal,
    available_cash: Decimal,
    price: Decimal,
    stop_price: Decimal,
    risk_fraction: Decimal,
    costs: Costs,
    max_notional: Decimal | None = None,
) -> Decimal:
    """Risk ``risk_fraction`` of equity between entry and stop: quantity = risk / distance.

    The distance includes the round trip's fees and slippage, so hitting the stop loses at
    most the budgeted risk. The result never spends more than the available cash.
    """
    if not ZERO < risk_fraction < 1:
        raise ValueError(f"risk_fraction must be in (0, 1), got {risk_fraction}")
    if stop_price >= price:
        raise ValueError(f"a long entry needs its stop below the price ({stop_price} >= {price})")
    entry = costs.effective_price(price)
    exit_net = stop_price * (1 - costs.slippage_bps / BPS) * (1 - costs.fee_rate)
    quantity = (equity * risk_fraction) / (entry - exit_net)
    affordable = available_cash / entry
    if max_notional is not None:
        affordable = min(affordable, max_notional / entry)
    return _placeable(instrument, min(quantity, affordable), price)
