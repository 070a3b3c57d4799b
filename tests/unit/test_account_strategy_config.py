"""An account's strategy section: checked against the strategy catalogue, pairs normalised to
Kraken spot USD altnames, stored in one spelling, replaced or removed as a whole by a patch."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aether.accounts.config import (
    AccountConfig,
    AccountConfigPatch,
    apply_patch,
    config_diff,
    stored_config,
)

SMA = {"name": "sma_cross", "params": {"fast": 10}, "pairs": ["BTC/USD", "eth-usd"]}


def _refused_fields(payload: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ValidationError) as refused:
        AccountConfigPatch.model_validate(payload)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in refused.value.errors()}


def test_a_strategy_is_stored_in_one_spelling() -> None:
    config = apply_patch(AccountConfig(), AccountConfigPatch.model_validate({"strategy": SMA}))
    stored = config.to_json()["strategy"]
    assert stored == {
        "name": "sma_cross",
        "params": {"fast": 10, "slow": 50},  # every default filled in
        "pairs": ["XBTUSD", "ETHUSD"],  # altnames, whatever was typed
        "bar_seconds": 60,  # the runner's bars, when not given
    }
    # Parameters typed as text (as `aether backtest --param` takes them) store the same.
    as_text = {**SMA, "params": {"fast": "10"}, "pairs": ["XBTUSD", "XETHZUSD"]}
    again = apply_patch(AccountConfig(), AccountConfigPatch.model_validate({"strategy": as_text}))
    assert again.to_json() == config.to_json()
    assert stored_config(config.to_json()) == config  # and read back unchanged


def test_no_strategy_is_the_default_and_is_not_stored() -> None:
    assert AccountConfig().strategy is None
    assert "strategy" not in AccountConfig().to_json()


@pytest.mark.parametrize(
    ("strategy", "field", "message"),
    [
        ({**SMA, "name": "martingale"}, "strategy.name", "unknown strategy 'martingale'"),
        ({**SMA, "params": {"fast": "x"}}, "strategy.params.fast", "expected an integer"),
        ({**SMA, "params": {"fast": 2.5}}, "strategy.params.fast", "expected an integer"),
        ({**SMA, "params": {"speed": 3}}, "strategy.params.speed", "no parameter 'speed'"),
        ({**SMA, "params": {"fast": 80}}, "strategy.params", "fast < slow"),
        ({**SMA, "pairs": ["ETH/BTC"]}, "strategy.pairs.0", "'ETH/BTC' is not a USD pair"),
        ({**SMA, "pairs": ["XBTUSDT"]}, "strategy.pairs.0", "'XBTUSDT' is not a USD pair"),
        ({**SMA, "pairs": ["XBTUSD", "BTC/USD"]}, "strategy.pairs", "XBTUSD is listed twice"),
        ({**SMA, "pairs": []}, "strategy.pairs", "at least 1 item"),
        ({"name": "sma_cross"}, "strategy.pairs", "Field required"),
        ({**SMA, "extra": 1}, "strategy.extra", "Extra inputs are not permitted"),
    ],
)
def test_bad_strategies_are_refused_naming_the_field(
    strategy: dict[str, object], field: str, message: str
) -> None:
    refused = _refused_fields({"strategy": strategy})
    assert field in refused, refused
    assert message in refused[field]


def test_a_patch_replaces_the_strategy_as_a_whole_and_null_removes_it() -> None:
    before = apply_patch(AccountConfig(), AccountConfigPatch.model_validate({"strategy": SMA}))
    breakout = {"name": "breakout", "params": {"entry": 30}, "pairs": ["SOLUSD"]}
    after = apply_patch(before, AccountConfigPatch.model_validate({"strategy": breakout}))
    assert after.to_json()["strategy"] == {
        "name": "breakout",
        "params": {"entry": 30, "exit": 20},  # nothing of sma_cross's parameters is kept
        "pairs": ["SOLUSD"],
        "bar_seconds": 60,
    }
    assert config_diff(before, after)["strategy.name"] == {"from": "sma_cross", "to": "breakout"}
    # A patch that does not name the strategy keeps it.
    kept = apply_patch(after, AccountConfigPatch.model_validate({"trading_state": "halted"}))
    assert kept.strategy == after.strategy
    removed = apply_patch(after, AccountConfigPatch.model_validate({"strategy": None}))
    assert removed.strategy is None
    assert config_diff(after, removed)["strategy"]["to"] is None


def test_a_stored_strategy_the_catalogue_refuses_is_named_on_load() -> None:
    stored = {"strategy": {"name": "retired", "params": {}, "pairs": ["XBTUSD"]}}
    with pytest.raises(ValueError, match=r"strategy\.name: unknown strategy 'retired'"):
        stored_config(stored)


def test_the_runner_bar_length_is_bounded_and_named_when_refused() -> None:
    five = apply_patch(
        AccountConfig(), AccountConfigPatch.model_validate({"strategy": {**SMA, "bar_seconds": 5}})
    )
    assert five.to_json()["strategy"]["bar_seconds"] == 5
    for bad in (4, 86_401, "x", 1.5):
        assert "strategy.bar_seconds" in _refused_fields({"strategy": {**SMA, "bar_seconds": bad}})
