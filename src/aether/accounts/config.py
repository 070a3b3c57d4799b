"""Per-account run-time configuration: trading state, risk limits, strategy and the paper
account's starting cash.

Stored as JSON on the account row; every change goes through :func:`apply_patch` so it is
validated as a whole before it is saved (and audited by the caller). Amounts are stored in
one spelling whatever the client sent: USD amounts quantized to cents (``"1e3"`` is
``"1000.00"``), fractions in plain notation (never ``"1E+1"``). The risk limits act through
:func:`aether.accounts.risk_limits.engine_risk_limits`; the trading state and the strategy
(:mod:`aether.accounts.strategy_config`: catalogue name, parameters, pairs) act in
``aether backtest --account`` today, and in the account runners when they exist. An account
without a strategy does not trade.

A ``hedge`` section is refused ("not available yet") until the hedge controller exists: a
setting that is accepted must act. Configuration read back from storage goes through
:func:`stored_config`, which drops the default hedge section older accounts were created
with and refuses any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from aether.accounts.strategy_config import StrategyConfig
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

HEDGE_NOT_AVAILABLE = "not available yet: hedging arrives with the hedge controller"
# What every account was created with while a hedge section was accepted: written by the
# platform, not chosen by anyone, so it is dropped when read back (see stored_config).
_OLD_DEFAULT_HEDGE = {"mode": "auto", "manual_usd_fraction": None}


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RiskLimits(_Frozen):
    """An account's limits as configured; each acts in the engine through
    :func:`aether.accounts.risk_limits.engine_risk_limits` (names differ: ``_usd`` here)."""

    max_order_notional_usd: UsdAmount = Decimal("1000.00")
    max_position_notional_usd: UsdAmount = Decimal("5000.00")
    max_open_orders: int = Field(default=20, ge=1, le=1000)
    max_orders_per_minute: int = Field(default=30, ge=1, le=6000)
    daily_drawdown_limit: Fraction = Decimal("0.05")


class PaperConfig(_Frozen):
    """What a paper account trades with: the USD it starts with. Its balances are this plus
    its fills (fees included), so changing it moves today's balance by the difference."""

    starting_cash_usd: UsdAmount = Decimal("10000.00")


class PaperConfigPatch(_Frozen):
    starting_cash_usd: UsdAmount | None = None


class _RefusesHedge(_Frozen):
    """Refuses a ``hedge`` section by name, whatever its value (``null`` too).

    Not in the schema: to a client it is an unknown field, refused with the reason.
    """

    hedge: SkipJsonSchema[None] = Field(default=None, exclude=True, repr=False)

    @field_validator("hedge", mode="before")
    @classmethod
    def _not_available(cls, value: object) -> None:
        raise PydanticCustomError("not_available", HEDGE_NOT_AVAILABLE)


class AccountConfig(_RefusesHedge):
    """The whole configuration of one account; defaults are deliberately conservative."""

    trading_state: TradingState = TradingState.ACTIVE
    risk: RiskLimits = RiskLimits()
    strategy: StrategyConfig | None = None
    paper: PaperConfig = PaperConfig()

    def to_json(self) -> dict[str, Any]:
        """JSON-safe form (Decimals as strings) for storage and the audit log; no strategy is
        stored as no ``strategy`` key, as accounts made before the section existed have it."""
        data = self.model_dump(mode="json")
        if data["strategy"] is None:
            del data["strategy"]
        return data


class RiskLimitsPatch(_Frozen):
    max_order_notional_usd: UsdAmount | None = None
    max_position_notional_usd: UsdAmount | None = None
    max_open_orders: int | None = Field(default=None, ge=1, le=1000)
    max_orders_per_minute: int | None = Field(default=None, ge=1, le=6000)
    daily_drawdown_limit: Fraction | None = None


class AccountConfigPatch(_RefusesHedge):
    """A partial update: only the fields given change.

    ``strategy`` is replaced as a whole when given (its parameters' defaults filled in
    again), and an explicit ``"strategy": null`` removes it: the account stops trading.
    """

    trading_state: TradingState | None = None
    risk: RiskLimitsPatch | None = None
    strategy: StrategyConfig | None = None
    paper: PaperConfigPatch | None = None


class StoredConfigError(ValueError):
    """An account's stored configuration is one this version refuses; the message names the
    field and why."""


def stored_config(raw: Mapping[str, Any]) -> AccountConfig:
    """The configuration stored on an account row, validated as new input is.

    The default hedge section (``{"mode": "auto", "manual_usd_fraction": null}``) that
    accounts were created with before hedging was refused is dropped: nobody chose it. Any
    other hedge section was set by someone and raises :class:`StoredConfigError`, never
    silently dropped.
    """
    data = dict(raw)
    if data.get("hedge") == _OLD_DEFAULT_HEDGE:
        del data["hedge"]
    try:
        return AccountConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise StoredConfigError(f"stored configuration refused: {problems}") from exc


def apply_patch(current: AccountConfig, patch: AccountConfigPatch) -> AccountConfig:
    """Merge ``patch`` into ``current`` and re-validate the result as a whole.

    Raises pydantic's ``ValidationError`` when the merged configuration is inconsistent.
    """
    merged = current.model_dump()
    for section, values in patch.model_dump(exclude_none=True, exclude={"strategy"}).items():
        if isinstance(values, dict):
            merged[section].update(values)
        else:
            merged[section] = values
    # Given means replaced, null included (a strategy's parameters belong to its name).
    if "strategy" in patch.model_fields_set:
        merged["strategy"] = None if patch.strategy is None else patch.strategy.model_dump()
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
