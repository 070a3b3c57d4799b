from __future__ import annotations

from decimal import Decimal

import pytest

from aether.domain.instruments import (
    FeeSchedule,
    FeeTier,
    Instrument,
    InstrumentKind,
    InstrumentRuleError,
)
from aether.domain.money import InvalidValueError, as_decimal, floor_to_step, round_to_step
from aether.domain.universe import NotSpotUsdError, is_spot_usd, require_spot_usd
from tests.unit.domain.conftest import make_instrument


@pytest.mark.parametrize(
    ("call", "rule"),
    [
        (lambda i: i.check_price("100.05"), "tick_size"),
        (lambda i: i.check_price("0"), "positive_price"),
        (lambda i: i.check_quantity("0.000000001"), "lot_size"),
        (lambda i: i.check_quantity("0.00005"), "min_quantity"),
        (lambda i: i.check_quantity("-1"), "positive_quantity"),
        (lambda i: i.check_cost(Decimal("0.0001"), Decimal("1000.0")), "min_cost"),
    ],
)
def test_each_rule_is_named(xbtusd: Instrument, call: object, rule: str) -> None:
    with pytest.raises(InstrumentRuleError) as caught:
        call(xbtusd)  # type: ignore[operator]
    assert caught.value.rule == rule
    assert "XBTUSD" in str(caught.value)


def test_valid_values_pass_as_exact_decimals(xbtusd: Instrument) -> None:
    assert xbtusd.check_price("65000.1") == Decimal("65000.1")
    assert xbtusd.check_quantity("0.00012345") == Decimal("0.00012345")
    xbtusd.check_cost(Decimal("0.001"), Decimal("1000.0"))


@pytest.mark.parametrize("bad", [float("nan"), 1.5, "NaN", "Infinity", "abc", None, True])
def test_non_exact_or_non_finite_numbers_are_refused(bad: object) -> None:
    with pytest.raises(InvalidValueError) as caught:
        as_decimal(bad, "price")  # type: ignore[arg-type]
    assert str(caught.value).startswith("price:")


def test_step_rounding() -> None:
    assert floor_to_step(Decimal("1.23456789"), Decimal("0.001")) == Decimal("1.234")
    assert round_to_step(Decimal("100.05"), Decimal("0.1")) == Decimal("100.0")
    assert round_to_step(Decimal("100.15"), Decimal("0.1")) == Decimal("100.2")


def test_fee_tiers_pick_by_volume_and_validate() -> None:
    schedule = FeeSchedule(
        (
            FeeTier(Decimal(0), Decimal("0.0025"), Decimal("0.0040")),
            FeeTier(Decimal(10_000), Decimal("0.0020"), Decimal("0.0035")),
        )
    )
    assert schedule.tier_for(Decimal(9_999)).taker == Decimal("0.0040")
    assert schedule.tier_for(Decimal(10_000)).maker == Decimal("0.0020")
    with pytest.raises(ValueError, match="start at 0"):
        FeeSchedule((FeeTier(Decimal(5), Decimal(0), Decimal(0)),))
    with pytest.raises(ValueError, match="ascend"):
        FeeSchedule(
            (
                FeeTier(Decimal(0), Decimal(0), Decimal(0)),
                FeeTier(Decimal(0), Decimal(0), Decimal(0)),
            )
        )


def test_instrument_refuses_nonsense_grid() -> None:
    with pytest.raises(ValueError, match="tick_size"):
        make_instrument(tick_size=Decimal(0))


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"quote": "EUR", "symbol": "XBTEUR"}, "quoted in 'EUR'"),
        ({"quote": "USDT", "symbol": "XBTUSDT"}, "quoted in 'USDT'"),
        ({"kind": InstrumentKind.MARGIN}, "only spot"),
        ({"kind": InstrumentKind.FUTURE}, "only spot"),
        ({"venue": "binance"}, "venue"),
    ],
)
def test_only_kraken_spot_usd_is_tradable(overrides: dict[str, object], why: str) -> None:
    instrument = make_instrument(**overrides)
    with pytest.raises(NotSpotUsdError, match=why):
        require_spot_usd(instrument)
    assert not is_spot_usd(instrument)


def test_stablecoin_quote_only_when_configured() -> None:
    usdt = make_instrument("XBTUSDT", quote="USDT")
    assert not is_spot_usd(usdt)
    assert require_spot_usd(usdt, extra_usd_quotes={"USDT"}) is usdt
    assert is_spot_usd(make_instrument(quote="ZUSD"))
