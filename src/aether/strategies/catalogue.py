"""The strategies a user can name, and how their parameters are parsed from text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aether.engine.strategy import Strategy
from aether.strategies.breakout import Breakout
from aether.strategies.sma_cross import SmaCross


class StrategyParamError(ValueError):
    """A strategy name or parameter that cannot be used; the message names it."""


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


def build_strategy(name: str, params: Mapping[str, str]) -> tuple[Strategy, dict[str, int]]:
    """The named strategy with ``params`` (text, as typed) over its defaults.

    Unknown strategies, unknown parameters and non-integer values are refused by name.
    """
    spec = CATALOGUE.get(name)
    if spec is None:
        known = ", ".join(sorted(CATALOGUE))
        raise StrategyParamError(f"unknown strategy {name!r} (known: {known})")
    values = dict(spec.params)
    for key, text in params.items():
        if key not in spec.params:
            known = ", ".join(spec.params)
            raise StrategyParamError(f"{name} has no parameter {key!r} (it takes: {known})")
        try:
            values[key] = int(text)
        except ValueError:
            raise StrategyParamError(f"parameter {key}={text!r}: expected an integer") from None
    try:
        return spec.build(**values), values
    except ValueError as exc:
        raise StrategyParamError(str(exc)) from None
