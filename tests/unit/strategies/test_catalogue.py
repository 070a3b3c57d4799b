"""The catalogue's one check of a strategy and its parameters names the field at fault and
reads JSON integers as it reads typed text."""

from __future__ import annotations

import pytest

from aether.strategies.catalogue import StrategyParamError, build_strategy, strategy_params


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("martingale", {}, ("name",)),
        ("sma_cross", {"speed": 3}, ("params", "speed")),
        ("sma_cross", {"fast": "x"}, ("params", "fast")),
        ("sma_cross", {"fast": True}, ("params", "fast")),
        ("sma_cross", {"fast": 2.0}, ("params", "fast")),
        ("sma_cross", {"fast": 1, "slow": 10**20}, ("params", "slow")),  # a slip, not a window
        ("breakout", {"exit": "0"}, ("params", "exit")),
        ("sma_cross", {"fast": 60}, ("params",)),  # fast must stay below slow (50)
        ("breakout", {"entry": 1}, ("params",)),
    ],
)
def test_a_refusal_names_its_field(name: str, params: dict[str, object], field: tuple[str, ...]):
    with pytest.raises(StrategyParamError) as refused:
        strategy_params(name, params)  # type: ignore[arg-type]  # the wrong types are the test
    assert refused.value.field == field


def test_json_integers_and_typed_text_are_one_value() -> None:
    assert strategy_params("sma_cross", {"fast": 5}) == {"fast": 5, "slow": 50}
    assert strategy_params("sma_cross", {"fast": "5"}) == strategy_params("sma_cross", {"fast": 5})
    assert build_strategy("breakout", {"entry": 30})[1] == {"entry": 30, "exit": 20}
