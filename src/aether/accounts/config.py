"""Per-account run-time configuration: trading state, risk limits and hedge settings.

Stored as JSON on the account row; every change goes through :func:`apply_patch` so it is
validated as a whole before it is saved (and audited by the caller). Amounts are stored in
one spelling whatever the client sent: USD amounts quantized to cents (``"1e3"`` is
``"1000.00"``), fractions in plain notation (never ``"1E+1"``).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from aether.domain.accounts import TradingState

# Explicit context and rounding: another library may have changed the thread's context.
_EXACT = Context(prec=40)
_CENT = Decimal("0.01")


def _to_cents(value: Decimal) -> Decimal:
    """Exact (at most two places were accepted): only the spelling changes, 1E+3 -> 1000.00."""
    return value.quantize(_CENT, rounding=ROUND_HALF_EVEN, context=_EXACT)


def _plain(value: Decimal) -> Decimal:
    """The same value without a positive exponent (0E+2 -> 0), so it is stored as plain text."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        return value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN, context=_EXACT)
    return value


UsdAmount = Annotated[
    Decimal, Field(gt=0, max_digits=20, decimal_places=2), AfterValidator(_to_cents)
]
Fraction = Annotated[
    Decimal, Field(gt=0, le=1, max_digits=6, decimal_places=4), AfterValidator(_plain)
]
ShareOfBalance = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4), AfterValidator(_plain)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RiskLimits(_Frozen):
    max_order_notional_usd: UsdAmount = Decimal("1000.00")
    max_position_notional_usd: UsdAmount = Decimal("5000.00")
    max_open_orders: int = Field(default=20, ge=1, le=1000)
    max_orders_per_minute: int = Field(default=30, ge=1, le=6000)
    daily_drawdown_limit: Fraction = Decimal("0.05")


class HedgeMode(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"
    OFF = "off"


class HedgeConfig(_Frozen):
    mode: HedgeMode = HedgeMode.AUTO
    manual_usd_fraction: ShareOfBalance | None = None

    @model_validator(mode="after")
    def _manual_needs_fraction(self) -> HedgeConfig:
        if self.mode is HedgeMode.MANUAL and self.manual_usd_fraction is None:
            raise ValueError("manual_usd_fraction is required when mode is 'manual'")
        return self


class AccountConfig(_Frozen):
    """The whole configuration of one account; defaults are deliberately conservative."""

    trading_state: TradingState = TradingState.ACTIVE
    risk: RiskLimits = RiskLimits()
    hedge: HedgeConfig = HedgeConfig()

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form (Decimals as strings) for storage and the audit log."""
        return self.model_dump(mode="json")


class RiskLimitsPatch(_Frozen):
    max_order_notional_usd: UsdAmount | None = None
    max_position_notional_usd: UsdAmount | None = None
    max_open_orders: int | None = Field(default=None, ge=1, le=1000)
    max_orders_per_minute: int | None = Field(default=None, ge=1, le=6000)
    daily_drawdown_limit: Fraction | None = None


class HedgeConfigPatch(_Frozen):
    mode: HedgeMode | None = None
    manual_usd_fraction: ShareOfBalance | None = None


class AccountConfigPatch(_Frozen):
    """A partial update: only the fields given change."""

    trading_state: TradingState | None = None
    risk: RiskLimitsPatch | None = None
    hedge: HedgeConfigPatch | None = None


def apply_patch(current: AccountConfig, patch: AccountConfigPatch) -> AccountConfig:
    """Merge ``patch`` into ``current`` and re-validate the result as a whole.

    Raises pydantic's ``ValidationError`` when the merged configuration is inconsistent.
    """
    merged = current.model_dump()
    for section, values in patch.model_dump(exclude_none=True).items():
        if isinstance(values, dict):
            merged[section].update(values)
        else:
            merged[section] = values
    return AccountConfig.model_validate(merged)


def config_diff(before: AccountConfig, after: AccountConfig) -> dict[str, Any]:
    """Changed leaf fields as ``{"risk.max_open_orders": {"from": 20, "to": 10}}``."""
    changes: dict[str, Any] = {}
    _diff(before.to_json(), after.to_json(), "", changes)
    return changes


def _diff(a: dict[str, Any], b: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key in sorted(set(a) | set(b)):
        path = f"{prefix}{key}"
        left, right = a.get(key), b.get(key)
        if isinstance(left, dict) and isinstance(right, dict):
            _diff(left, right, f"{path}.", out)
        elif left != right:
            out[path] = {"from": left, "to": right}
