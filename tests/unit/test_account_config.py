from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from aether.accounts.config import (
    AccountConfig,
    AccountConfigPatch,
    HedgeMode,
    apply_patch,
    config_diff,
)
from aether.domain.accounts import TradingState


def test_patch_changes_only_given_fields_and_diff_names_them() -> None:
    before = AccountConfig()
    patch = AccountConfigPatch.model_validate(
        {"trading_state": "reducing", "risk": {"max_open_orders": 5}}
    )
    after = apply_patch(before, patch)
    assert after.trading_state is TradingState.REDUCING
    assert after.risk.max_open_orders == 5
    assert after.risk.max_order_notional_usd == before.risk.max_order_notional_usd
    assert config_diff(before, after) == {
        "risk.max_open_orders": {"from": 20, "to": 5},
        "trading_state": {"from": "active", "to": "reducing"},
    }


def test_merged_config_is_validated_as_a_whole() -> None:
    patch = AccountConfigPatch.model_validate({"hedge": {"mode": "manual"}})
    with pytest.raises(ValidationError, match="manual_usd_fraction"):
        apply_patch(AccountConfig(), patch)
    ok = AccountConfigPatch.model_validate(
        {"hedge": {"mode": "manual", "manual_usd_fraction": "0.25"}}
    )
    merged = apply_patch(AccountConfig(), ok)
    assert merged.hedge.mode is HedgeMode.MANUAL
    assert merged.hedge.manual_usd_fraction == Decimal("0.25")


@pytest.mark.parametrize(
    "payload",
    [
        {"risk": {"max_order_notional_usd": "-5"}},
        {"risk": {"daily_drawdown_limit": "1.5"}},
        {"risk": {"max_order_notional_usd": "10.001"}},
        {"risk": {"unknown_limit": 3}},
        {"trading_state": "paused"},
    ],
)
def test_invalid_patches_are_refused(payload: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AccountConfigPatch.model_validate(payload)


def test_money_is_decimal_and_serialises_as_text() -> None:
    cfg = AccountConfig()
    assert isinstance(cfg.risk.max_order_notional_usd, Decimal)
    assert cfg.to_json()["risk"]["max_order_notional_usd"] == "1000.00"


@pytest.mark.parametrize(
    ("patch", "section", "field", "stored"),
    [
        ({"risk": {"max_order_notional_usd": "1e3"}}, "risk", "max_order_notional_usd", "1000.00"),
        ({"risk": {"max_order_notional_usd": 250}}, "risk", "max_order_notional_usd", "250.00"),
        (
            {"risk": {"max_position_notional_usd": "12.5"}},
            "risk",
            "max_position_notional_usd",
            "12.50",
        ),
        ({"risk": {"daily_drawdown_limit": "5E-2"}}, "risk", "daily_drawdown_limit", "0.05"),
        (
            {"hedge": {"mode": "manual", "manual_usd_fraction": "0E+2"}},
            "hedge",
            "manual_usd_fraction",
            "0",
        ),
    ],
)
def test_amounts_are_stored_in_one_spelling_whatever_was_sent(
    patch: dict[str, object], section: str, field: str, stored: str
) -> None:
    merged = apply_patch(AccountConfig(), AccountConfigPatch.model_validate(patch))
    assert merged.to_json()[section][field] == stored
    # And it stays so through a round trip of the stored JSON.
    assert AccountConfig.model_validate(merged.to_json()).to_json() == merged.to_json()
