"""The strategies a user can name, and the one check of a strategy and its parameters (as
the CLI types them or an account stores them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aether.engine.strategy import Strategy
from aether.strategies.breakout import Breakout
from aether.strategies.sma_cross import SmaCross

#: The longest window a parameter may ask for: over eleven years of hourly bars. Past it a
#: value is a typing slip, and an account would store it.
MAX_BARS = 100_000


class StrategyParamError(ValueError):
    """A strategy name or parameter that cannot be used; the message names it.

    ``field`` says what is at fault, as a path: ``("name",)``, ``("params", "fast")``, or
    ``("params",)`` when the parameters are refused together (``fast`` not below ``slow``).
    """

    def __init__(self, message: str, field: tuple[str, ...]) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class StrategySpec:
    name: str
    summary: str
    params: Mapping[str, int]  # name -> default (all baseline parameters are bar counts)
    build: Callable[..., Strategy]


CATALOGUE: Mapping[str, StrategySpec] = {
    "sma_cross": StrategySpec(
        "sma_cross", "SMA crossover (long above, flat below)", {"fast": 20, "slow": 50}, SmaCross
    ),
    "breakout": StrategySpec(
        "breakout", "Donchian channel breakout", {"entry": 55, "exit": 20}, Breakout
    ),
}


def build_strategy(name: str, params: Mapping[str, str | int]) -> tuple[Strategy, dict[str, int]]:
    """The named strategy with ``params`` over its defaults, and every parameter's value.

    The one check of a strategy and its parameters, for the CLI (values as typed, text) and
    account configuration (JSON integers or text alike): unknown strategies, unknown
    parameters, non-integer values and combinations the strategy refuses raise
    :class:`StrategyParamError` naming them.
    """
    spec = CATALOGUE.get(name)
    if spec is None:
        known = ", ".join(sorted(CATALOGUE))
        raise StrategyParamError(f"unknown strategy {name!r} (known: {known})", ("name",))
    values = dict(spec.params)
    for key, given in params.items():
        if key not in spec.params:
            known = ", ".join(spec.params)
            raise StrategyParamError(
                f"{name} has no parameter {key!r} (it takes: {known})", ("params", key)
            )
        values[key] = _integer(key, given)
    try:
        return spec.build(**values), values
    except ValueError as exc:
        raise StrategyParamError(str(exc), ("params",)) from None


def strategy_params(name: str, params: Mapping[str, str | int]) -> dict[str, int]:
    """Every parameter of the named strategy, ``params`` over its defaults, checked by
    :func:`build_strategy` (the strategy is built and dropped: it is pure and cheap)."""
    return build_strategy(name, params)[1]


def _integer(key: str, given: object) -> int:
    """A bar count as typed (``"20"``) or as a JSON integer, 1 to :data:`MAX_BARS`; ``true``
    and ``20.0`` are not integers."""
    value: int | None = None
    if isinstance(given, int) and not isinstance(given, bool):
        value = given
    elif isinstance(given, str):
        try:
            value = int(given)
        except ValueError:
            value = None
    shown = repr(given)[:40]
    if value is None:
        raise StrategyParamError(f"parameter {key}={shown}: expected an integer", ("params", key))
    if not 1 <= value <= MAX_BARS:
        raise StrategyParamError(
            f"parameter {key}={shown}: expected 1 to {MAX_BARS} bars", ("params", key)
        )
    return value
