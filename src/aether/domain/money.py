"""Exact money: Decimal parsing and tick/lot arithmetic. Floats never become money here."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

ZERO = Decimal(0)


class InvalidValueError(ValueError):
    """A value that cannot be money or a quantity; the message names the field."""

    def __init__(self, field: str, value: object, why: str) -> None:
        self.field = field
        super().__init__(f"{field}: {why} (got {value!r})")


def as_decimal(value: Decimal | int | str, field: str) -> Decimal:
    """Parse ``value`` into a finite Decimal; floats are refused (they are not exact)."""
    if isinstance(value, bool | float):
        raise InvalidValueError(field, value, "must be a Decimal, int or decimal string")
    try:
        number = value if isinstance(value, Decimal) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidValueError(field, value, "is not a number") from None
    if not number.is_finite():
        raise InvalidValueError(field, value, "must be finite")
    return number


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """True when ``value`` is an exact multiple of ``step``."""
    return value % step == ZERO


def round_to_step(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``value`` rounded to a multiple of ``step`` (``ROUND_DOWN`` for quantities to afford)."""
    return (value / step).quantize(Decimal(1), rounding=rounding) * step


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    return round_to_step(value, step, ROUND_DOWN)
