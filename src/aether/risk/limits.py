"""Risk limits of one account: what pre-trade checks and the drawdown guard enforce.

Every limit is optional: None means "not limited". A configured limit must be positive;
anything else is refused at construction with a ValueError naming the field, so a typo in
configuration can never turn into a silently disabled (or everything-refusing) limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aether.risk.exposure import Groups, groups_from_config

_USD_FIELDS = ("max_order_notional", "max_position_notional", "max_group_exposure")
_COUNT_FIELDS = ("max_open_orders", "max_orders_per_minute")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Limits in USD (notional and exposure), counts (orders) and a daily drawdown fraction.

    ``max_position_notional`` caps the value of one pair's position after an order,
    ``max_group_exposure`` the value of all positions in one of ``correlated_groups`` after
    an order. ``max_daily_drawdown`` is a fraction of the day's starting equity in (0, 1].
    ``correlated_groups`` is validated by :func:`aether.risk.exposure.groups_from_config`:
    a symbol may appear in one group only.
    """

    max_order_notional: Decimal | None = None
    max_position_notional: Decimal | None = None
    max_group_exposure: Decimal | None = None
    correlated_groups: Groups = ()
    max_open_orders: int | None = None
    max_orders_per_minute: int | None = None
    max_daily_drawdown: Decimal | None = None

    def __post_init__(self) -> None:
        for name in _USD_FIELDS:
            _positive_decimal(name, getattr(self, name))
        for name in _COUNT_FIELDS:
            value = getattr(self, name)
            # bool is an int subclass; True as "1 order" is a configuration mistake.
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
        drawdown = _positive_decimal("max_daily_drawdown", self.max_daily_drawdown)
        if drawdown is not None and drawdown > 1:
            raise ValueError(
                f"max_daily_drawdown is a fraction in (0, 1], got {drawdown} (0.05 means 5 %)"
            )
        # Normalise (lists from configuration become a tuple of frozensets) after validating.
        object.__setattr__(self, "correlated_groups", groups_from_config(self.correlated_groups))

    def describe(self) -> str:
        """The configured limits in one line (for a report), or ``none``."""
        parts = [
            f"{label} {value}{unit}"
            for label, value, unit in (
                ("max order", self.max_order_notional, " USD"),
                ("max position", self.max_position_notional, " USD"),
                ("max group exposure", self.max_group_exposure, " USD"),
                ("max open orders", self.max_open_orders, ""),
                ("max orders per minute", self.max_orders_per_minute, ""),
                ("max daily drawdown", self.max_daily_drawdown, ""),
            )
            if value is not None
        ]
        return ", ".join(parts) or "none"


def _positive_decimal(name: str, value: object) -> Decimal | None:
    if value is None:
        return None
    # Floats are not money; a NaN or infinite limit would make every comparison meaningless.
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be a positive finite Decimal or None, got {value!r}")
    return value
