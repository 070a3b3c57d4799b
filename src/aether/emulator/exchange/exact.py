"""The exchange core's arithmetic context: 60 digits, half-even, trapping invalid
operations, whatever context the caller runs in (ccxt, for one, changes the global one)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import ParamSpec, TypeVar

__all__ = ["exact"]

_CONTEXT = Context(
    prec=60,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)

_P = ParamSpec("_P")
_R = TypeVar("_R")


def exact(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``method`` in the exchange's wide Decimal context, whatever the caller's is."""

    @functools.wraps(method)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(_CONTEXT):
            return method(*args, **kwargs)

    return run
