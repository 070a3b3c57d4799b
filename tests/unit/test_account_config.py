from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from aether.accounts.config import (
    HEDGE_NOT_AVAILABLE,
    AccountConfig,
    AccountConfigPatch,
    StoredConfigError,
    apply_patch,
    config_diff,
    stored_config,
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


@pytest.mark.parametrize("model", [AccountConfig, AccountConfigPatch])
@pytest.mark.parametrize(
    "hedge", [{"mode": "auto"}, {"mode": "manual", "manual_usd_fraction": "0.25"}, {}, None]
)
def test_a_hedge_section_is_refused_as_not_available_yet(
    model: type[AccountConfig | AccountConfigPatch], hedge: object
) -> None:
    with pytest.raises(ValidationError) as refused:
        model.model_validate({"hedge": hedge})
    [error] = refused.value.errors()
    assert error["loc"] == ("hedge",)
    assert error["msg"] == HEDGE_NOT_AVAILABLE
    assert "hedging arrives with the hedge controller" in HEDGE_NOT_AVAILABLE


def test_new_accounts_store_no_hedge_section() -> None:
    assert set(AccountConfig().to_json()) == {"trading_state", "risk", "paper"}


OLD_DEFAULT = {
    "trading_state": "halted",
    "risk": {"max_open_orders": 7},
    "hedge": {"mode": "auto", "manual_usd_fraction": None},
}


def test_the_default_hedge_section_older_accounts_stored_is_dropped_on_load() -> None:
    loaded = stored_config(OLD_DEFAULT)
    assert loaded.trading_state is TradingState.HALTED
    assert loaded.risk.max_open_orders == 7
    assert "hedge" not in loaded.to_json()


@pytest.mark.parametrize(
    "hedge",
    [
        {"mode": "manual", "manual_usd_fraction": "0.25"},
        {"mode": "off", "manual_usd_fraction": None},
        {"mode": "auto", "manual_usd_fraction": "0.1"},
    ],
)
def test_a_hedge_section_someone_set_is_refused_on_load_not_dropped(
    hedge: dict[str, object],
) -> None:
    with pytest.raises(StoredConfigError, match=f"hedge: {HEDGE_NOT_AVAILABLE}"):
        stored_config({**OLD_DEFAULT, "hedge": hedge})


def test_stored_config_names_any_other_invalid_field() -> None:
    with pytest.raises(StoredConfigError, match=r"risk\.max_open_orders"):
        stored_config({"risk": {"max_open_orders": 0}})


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
    ],
)
def test_amounts_are_stored_in_one_spelling_whatever_was_sent(
    patch: dict[str, object], section: str, field: str, stored: str
) -> None:
    merged = apply_patch(AccountConfig(), AccountConfigPatch.model_validate(patch))
    assert merged.to_json()[section][field] == stored
    # And it stays so through a round trip of the stored JSON.
    assert AccountConfig.model_validate(merged.to_json()).to_json() == merged.to_json()


def test_paper_starting_cash_is_cents_and_patched_alone() -> None:
    patched = apply_patch(
        AccountConfig(), AccountConfigPatch.model_validate({"paper": {"starting_cash_usd": "25e3"}})
    )
    assert patched.to_json()["paper"] == {"starting_cash_usd": "25000.00"}
    assert patched.risk == AccountConfig().risk
    with pytest.raises(ValidationError, match="starting_cash_usd"):
        AccountConfigPatch.model_validate({"paper": {"starting_cash_usd": "-1"}})
