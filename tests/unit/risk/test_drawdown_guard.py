from __future__ import annotations

from decimal import Decimal as D

import pytest

from aether.domain.accounts import TradingState
from aether.risk.drawdown_guard import NS_PER_DAY, DrawdownGuard

ACTIVE, HALTED = TradingState.ACTIVE, TradingState.HALTED
DAY = 19_800  # 2024-03-18 UTC, as days since the epoch
MIDNIGHT = DAY * NS_PER_DAY
HOUR = 3_600 * 1_000_000_000


def test_a_day_is_a_utc_calendar_day() -> None:
    assert NS_PER_DAY == 86_400_000_000_000


def test_halts_only_past_the_limit() -> None:
    guard = DrawdownGuard(D("0.05"))
    assert guard.on_equity(MIDNIGHT + HOUR, D(10_000)) is ACTIVE
    assert guard.day_start == D(10_000)
    assert guard.on_equity(MIDNIGHT + 2 * HOUR, D(9_500)) is ACTIVE  # exactly 5 %: allowed
    assert guard.state is ACTIVE
    assert guard.halted_since_ns is None
    assert guard.reason == ""
    assert guard.on_equity(MIDNIGHT + 3 * HOUR, D("9499.99")) is HALTED  # 5.0001 %
    assert guard.state is HALTED
    assert guard.halted_since_ns == MIDNIGHT + 3 * HOUR
    assert guard.reason.startswith("daily drawdown 5.0001% exceeds the limit 5.0000%")
    assert "equity 9499.99 against the day's start 10000" in guard.reason


def test_the_reference_is_the_first_equity_of_the_day_not_the_peak() -> None:
    guard = DrawdownGuard(D("0.10"))
    guard.on_equity(MIDNIGHT, D(1_000))
    guard.on_equity(MIDNIGHT + HOUR, D(2_000))  # a rally does not move the reference
    assert guard.on_equity(MIDNIGHT + 2 * HOUR, D(901)) is ACTIVE  # 9.9 % below 1,000
    assert guard.on_equity(MIDNIGHT + 3 * HOUR, D(899)) is HALTED


def test_stays_halted_for_the_rest_of_the_day_and_resumes_the_next() -> None:
    guard = DrawdownGuard(D("0.05"))
    guard.on_equity(MIDNIGHT + HOUR, D(10_000))
    guard.on_equity(MIDNIGHT + 2 * HOUR, D(9_000))
    since = guard.halted_since_ns
    assert guard.on_equity(MIDNIGHT + 3 * HOUR, D(12_000)) is HALTED  # recovered: still halted
    assert guard.on_equity(MIDNIGHT + NS_PER_DAY - 1, D(12_000)) is HALTED  # last ns of the day
    assert guard.halted_since_ns == since
    # The next UTC day starts ACTIVE with its own reference, however low equity now is.
    assert guard.on_equity(MIDNIGHT + NS_PER_DAY, D(9_000)) is ACTIVE
    assert guard.day_start == D(9_000)
    assert guard.halted_since_ns is None
    assert guard.reason == ""
    assert guard.on_equity(MIDNIGHT + NS_PER_DAY + HOUR, D(8_550)) is ACTIVE  # 5 % of 9,000
    assert guard.on_equity(MIDNIGHT + NS_PER_DAY + 2 * HOUR, D(8_549)) is HALTED


def test_a_quiet_day_still_gets_a_new_reference() -> None:
    guard = DrawdownGuard(D("0.05"))
    guard.on_equity(MIDNIGHT, D(10_000))
    guard.on_equity(MIDNIGHT + 3 * NS_PER_DAY + HOUR, D(20_000))  # days later, first of its day
    assert guard.day_start == D(20_000)
    assert guard.on_equity(MIDNIGHT + 3 * NS_PER_DAY + 2 * HOUR, D(18_999)) is HALTED


def test_a_late_timestamp_from_an_earlier_day_does_not_lift_a_halt() -> None:
    guard = DrawdownGuard(D("0.05"))
    guard.on_equity(MIDNIGHT + HOUR, D(100))
    guard.on_equity(MIDNIGHT + 2 * HOUR, D(90))
    assert guard.on_equity(MIDNIGHT - HOUR, D(100)) is HALTED
    assert guard.on_equity(MIDNIGHT + 3 * HOUR, D(100)) is HALTED
    # Nor, after a reset, does it start that earlier day again: it counts as today's.
    guard.reset(MIDNIGHT + 4 * HOUR)
    assert guard.on_equity(MIDNIGHT - HOUR, D(100)) is ACTIVE
    assert guard.on_equity(MIDNIGHT + 5 * HOUR, D(94)) is HALTED


def test_admin_reset_resumes_and_measures_from_the_next_equity() -> None:
    guard = DrawdownGuard(D("0.05"))
    guard.on_equity(MIDNIGHT + HOUR, D(10_000))
    guard.on_equity(MIDNIGHT + 2 * HOUR, D(9_400))
    assert guard.state is HALTED
    guard.reset(MIDNIGHT + 3 * HOUR)
    assert guard.state is ACTIVE
    assert guard.halted_since_ns is None
    assert guard.reason == ""
    # Measured against 10,000 this would halt again at once; the reset rebases on 9,400.
    assert guard.on_equity(MIDNIGHT + 4 * HOUR, D(9_400)) is ACTIVE
    assert guard.day_start == D(9_400)
    assert guard.on_equity(MIDNIGHT + 5 * HOUR, D(8_930)) is ACTIVE  # exactly 5 % of 9,400
    assert guard.on_equity(MIDNIGHT + 6 * HOUR, D("8929.99")) is HALTED


def test_no_limit_never_halts() -> None:
    guard = DrawdownGuard(None)
    guard.on_equity(MIDNIGHT, D(10_000))
    assert guard.on_equity(MIDNIGHT + HOUR, D(1)) is ACTIVE
    assert guard.limit is None


def test_a_non_positive_equity_is_not_a_reference() -> None:
    guard = DrawdownGuard(D("0.05"))
    assert guard.on_equity(MIDNIGHT, D(0)) is ACTIVE
    assert guard.day_start is None
    assert guard.on_equity(MIDNIGHT + HOUR, D(1_000)) is ACTIVE  # funded later that day
    assert guard.day_start == D(1_000)
    assert guard.on_equity(MIDNIGHT + 2 * HOUR, D(900)) is HALTED


@pytest.mark.parametrize("limit", [D(0), D("-0.1"), D("1.01"), D("NaN"), 0.05])
def test_invalid_limits_are_refused(limit: object) -> None:
    with pytest.raises(ValueError, match=r"fraction in \(0, 1\]"):
        DrawdownGuard(limit)  # type: ignore[arg-type]
