"""Executions and holdings as values: fills, balances, positions and an account snapshot.

Fills are keyed by the venue's trade id, so replaying a venue's history is idempotent.
Timestamps are UTC epoch nanoseconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from aether.domain.money import ZERO, InvalidValueError, as_decimal
from aether.domain.orders import Side


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of (part of) an order; ``fee`` is in ``fee_currency``."""

    trade_id: str
    cl_ord_id: str
    symbol: str
    side: Side
    quantity: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: Liquidity
    ts_ns: int

    def __post_init__(self) -> None:
        for name in ("quantity", "price"):
            value = as_decimal(getattr(self, name), name)
            if value <= ZERO:
                raise InvalidValueError(name, value, "must be positive")
        if as_decimal(self.fee, "fee") < ZERO:
            raise InvalidValueError("fee", self.fee, "must not be negative")
        if not self.trade_id:
            raise InvalidValueError("trade_id", self.trade_id, "must not be empty")

    @property
    def notional(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class Balance:
    """One asset of an account: ``reserved`` is held for open orders."""

    asset: str
    total: Decimal
    reserved: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.total - self.reserved


@dataclass(frozen=True, slots=True)
class Position:
    """Holdings of one pair's base asset, valued at cost (spot: never negative)."""

    symbol: str
    quantity: Decimal
    cost: Decimal
    realized_pnl: Decimal

    @property
    def average_price(self) -> Decimal | None:
        return self.cost / self.quantity if self.quantity else None

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        return self.quantity * mark - self.cost


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """An account at one instant, in USD."""

    account_id: uuid.UUID
    ts_ns: int
    balances: Mapping[str, Balance]
    positions: Mapping[str, Position]
    equity: Decimal
