"""Tradable instruments: symbol, assets, tick and lot sizes, minimums and the fee schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from aether.domain.money import ZERO, as_decimal, is_multiple


class InstrumentKind(StrEnum):
    SPOT = "spot"
    MARGIN = "margin"
    FUTURE = "future"


@dataclass(frozen=True, slots=True)
class FeeTier:
    """Fee rates (fractions: 0.0025 is 0.25 %) from a 30-day USD volume upwards."""

    min_volume_usd: Decimal
    maker: Decimal
    taker: Decimal


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Volume tiers in ascending order of ``min_volume_usd``; the first starts at 0."""

    tiers: tuple[FeeTier, ...]

    def __post_init__(self) -> None:
        if not self.tiers or self.tiers[0].min_volume_usd != ZERO:
            raise ValueError("fee schedule: the first tier must start at 0 USD volume")
        volumes = [t.min_volume_usd for t in self.tiers]
        if volumes != sorted(volumes) or len(set(volumes)) != len(volumes):
            raise ValueError("fee schedule: tiers must ascend strictly by min_volume_usd")
        for tier in self.tiers:
            if not (ZERO <= tier.maker < 1 and ZERO <= tier.taker < 1):
                raise ValueError("fee schedule: rates are fractions in [0, 1)")

    def tier_for(self, volume_30d_usd: Decimal) -> FeeTier:
        """The tier that applies at a 30-day USD volume."""
        chosen = self.tiers[0]
        for tier in self.tiers:
            if volume_30d_usd >= tier.min_volume_usd:
                chosen = tier
        return chosen

    @classmethod
    def flat(cls, maker: Decimal, taker: Decimal) -> FeeSchedule:
        return cls((FeeTier(ZERO, maker, taker),))


class InstrumentRuleError(ValueError):
    """A price or quantity breaks one of the instrument's rules; ``rule`` names it."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Instrument:
    """A venue pair such as ``XBTUSD`` (base ``XBT``, quote ``USD``)."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    min_quantity: Decimal
    min_cost: Decimal
    fees: FeeSchedule
    kind: InstrumentKind = InstrumentKind.SPOT
    venue: str = "kraken"
    tags: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for name in ("tick_size", "lot_size"):
            if getattr(self, name) <= ZERO:
                raise ValueError(f"{self.symbol}: {name} must be positive")
        for name in ("min_quantity", "min_cost"):
            if getattr(self, name) < ZERO:
                raise ValueError(f"{self.symbol}: {name} must not be negative")

    def _positive_on_grid(
        self, value: Decimal, step: Decimal, field_name: str, grid: str, kind: str
    ) -> Decimal:
        """Refuse non-positive values (rule ``positive_<kind>``) and values off ``step``
        (rule ``tick_size`` or ``lot_size``), naming the field and the instrument."""
        if value <= ZERO:
            raise InstrumentRuleError(
                f"positive_{kind}", f"{field_name} must be positive for {self.symbol}: {value}"
            )
        if not is_multiple(value, step):
            raise InstrumentRuleError(
                grid.replace(" ", "_"),
                f"{field_name} {value} is off the {grid} {step} of {self.symbol}",
            )
        return value

    def check_price(self, price: Decimal | int | str, field_name: str = "price") -> Decimal:
        """``price`` as Decimal if positive and on the tick grid, else InstrumentRuleError."""
        value = as_decimal(price, field_name)
        return self._positive_on_grid(value, self.tick_size, field_name, "tick size", "price")

    def check_quantity(self, quantity: Decimal | int | str) -> Decimal:
        """``quantity`` as Decimal if positive, on the lot grid and at least the minimum."""
        value = self._positive_on_grid(
            as_decimal(quantity, "quantity"), self.lot_size, "quantity", "lot size", "quantity"
        )
        if value < self.min_quantity:
            raise InstrumentRuleError(
                "min_quantity",
                f"quantity {value} is below the minimum {self.min_quantity} of {self.symbol}",
            )
        return value

    def check_cost(self, quantity: Decimal, price: Decimal) -> None:
        """Refuse an order whose notional is below the instrument's minimum cost."""
        cost = quantity * price
        if cost < self.min_cost:
            raise InstrumentRuleError(
                "min_cost",
                f"order cost {cost} {self.quote} is below the minimum {self.min_cost} "
                f"{self.quote} of {self.symbol}",
            )
