"""How an account trades: sizing, exits, expected costs and risk limits, in one value."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from aether.risk.exits import ExitConfig
from aether.risk.limits import RiskLimits
from aether.risk.sizing import Costs

NO_LIMITS = RiskLimits()


class SizingMethod(StrEnum):
    FIXED = "fixed"  # a fraction of available cash
    VOLATILITY = "volatility"  # a fraction of equity at risk between entry and stop


@dataclass(frozen=True, slots=True)
class SizingConfig:
    """``fraction`` is of available cash (fixed); ``risk_fraction`` of equity (volatility)."""

    method: SizingMethod = SizingMethod.VOLATILITY
    fraction: Decimal = Decimal(1)
    risk_fraction: Decimal = Decimal("0.01")

    def __post_init__(self) -> None:
        if not Decimal(0) < self.fraction <= 1:
            raise ValueError(f"sizing fraction must be in (0, 1], got {self.fraction}")
        if not Decimal(0) < self.risk_fraction < 1:
            raise ValueError(f"sizing risk_fraction must be in (0, 1), got {self.risk_fraction}")

    def describe(self) -> str:
        if self.method is SizingMethod.FIXED:
            return f"fixed fraction {self.fraction} of available cash"
        return f"volatility target: {self.risk_fraction} of equity at risk to the stop"


@dataclass(frozen=True, slots=True)
class TradingConfig:
    """``exits=None`` trades signals only (no stop-loss or take-profit): studies, not accounts.

    Volatility sizing needs a stop, so it needs exits. ``atr_period`` feeds ATR-based exits.
    """

    sizing: SizingConfig
    exits: ExitConfig | None
    costs: Costs
    limits: RiskLimits = NO_LIMITS
    atr_period: int = 14
    order_id_prefix: str = "ae"

    def __post_init__(self) -> None:
        if self.sizing.method is SizingMethod.VOLATILITY and self.exits is None:
            raise ValueError("volatility sizing needs exits: the stop sets the position size")
        if self.atr_period < 1:
            raise ValueError("atr_period must be at least 1")
        if not 1 <= len(self.order_id_prefix) <= 8 or not self.order_id_prefix.isalnum():
            raise ValueError("order_id_prefix must be 1-8 letters or digits")

    @property
    def uses_atr(self) -> bool:
        exits = self.exits
        if exits is None:
            return False
        distances = (exits.stop_loss, exits.take_profit, exits.trailing)
        return any(d is not None and d.atr_multiple is not None for d in distances)
