"""Kraken error strings -> typed exceptions with stable codes and retry flags."""

from __future__ import annotations

import pytest

from aether.venues.kraken import error_strings, errors
from aether.venues.kraken.errors import (
    KRAKEN_ERRORS,
    ApiRateLimitError,
    IndexUnavailableError,
    InsufficientFundsError,
    InternalError,
    InvalidArgumentsError,
    InvalidKeyError,
    InvalidNonceError,
    KrakenError,
    OrderError,
    OrderRateLimitError,
    RateLimitedError,
    RetryableError,
    ServiceBusyError,
    ServiceUnavailableError,
    TemporaryLockoutError,
    ThrottledError,
    error_for,
    raise_for,
)

CANONICAL = {
    name: value
    for name, value in vars(error_strings).items()
    if name.isupper() and isinstance(value, str)
}

# The documented strings the client must know, spelled as Kraken's pages spell them.
DOCUMENTED = [
    "EGeneral:Invalid arguments",
    "EGeneral:Invalid arguments:Index unavailable",
    "EGeneral:Permission denied",
    "EGeneral:Unknown method",
    "EGeneral:Internal error",
    "EGeneral:Temporary lockout",
    "EAPI:Invalid key",
    "EAPI:Invalid signature",
    "EAPI:Invalid nonce",
    "EAPI:Rate limit exceeded",
    "EAPI:Feature disabled",
    "EQuery:Unknown asset pair",
    "EQuery:Unknown asset",
    "EOrder:Cannot open position",
    "EOrder:Cannot open opposing position",
    "EOrder:Insufficient funds",
    "EOrder:Order minimum not met",
    "EOrder:Cost minimum not met",
    "EOrder:Tick size check failed",
    "EOrder:Unknown order",
    "EOrder:Rate limit exceeded",
    "EOrder:Orders limit exceeded",
    "EOrder:Invalid price",
    "EOrder:Post only order",
    "EOrder:Duplicate order",
    "EFunding:Invalid amount",
    "EFunding:Unknown withdraw key",
    "EService:Unavailable",
    "EService:Busy",
    "EService:Market in cancel_only mode",
    "EService:Market in post_only mode",
    "EService:Deadline elapsed",
]

RETRYABLE = {
    "EService:Unavailable",
    "EService:Busy",
    "EService:Deadline elapsed",
    "EService:Throttled",
    "EAPI:Rate limit exceeded",
    "EOrder:Rate limit exceeded",
    "EOrder:Domain rate limit exceeded",
    "EGeneral:Temporary lockout",
    "EAuth:Rate limit exceeded",
    "EAuth:Too many requests",
}
RATE_LIMITED = RETRYABLE - {"EService:Unavailable", "EService:Busy", "EService:Deadline elapsed"}


@pytest.mark.parametrize("message", DOCUMENTED)
def test_every_documented_string_has_its_own_class(message: str) -> None:
    exc = error_for(message)
    assert type(exc) is not KrakenError
    assert type(exc) is KRAKEN_ERRORS[message]
    assert exc.canonical == message
    assert str(exc) == exc.message == message


def test_the_mapping_is_exactly_the_canonical_constants() -> None:
    assert set(KRAKEN_ERRORS) == set(CANONICAL.values())
    assert len(CANONICAL) == len(set(CANONICAL.values()))


def test_codes_are_unique_and_follow_the_strings() -> None:
    codes = {cls.code for cls in KRAKEN_ERRORS.values()}
    assert len(codes) == len(KRAKEN_ERRORS)
    assert error_for("EAPI:Invalid key").code == "api_invalid_key"
    assert isinstance(error_for("EAPI:Invalid key"), InvalidKeyError)
    assert error_for("EOrder:Insufficient funds").code == "order_insufficient_funds"
    assert error_for("EService:Market in cancel_only mode").code == (
        "service_market_in_cancel_only_mode"
    )
    assert error_for("EGeneral:Invalid arguments:Index unavailable").code == (
        "general_invalid_arguments_index_unavailable"
    )


@pytest.mark.parametrize("message", sorted(KRAKEN_ERRORS))
def test_retry_and_rate_limit_flags(message: str) -> None:
    exc = error_for(message)
    assert exc.retryable is (message in RETRYABLE)
    assert exc.rate_limited is (message in RATE_LIMITED)
    assert isinstance(exc, RetryableError) is exc.retryable
    assert isinstance(exc, RateLimitedError) is exc.rate_limited


def test_flags_are_catchable_by_category_and_behaviour() -> None:
    assert isinstance(error_for("EOrder:Rate limit exceeded"), OrderError)
    assert isinstance(error_for("EOrder:Rate limit exceeded"), RateLimitedError)
    assert isinstance(error_for("EAPI:Rate limit exceeded"), ApiRateLimitError)
    assert isinstance(error_for("EGeneral:Temporary lockout"), TemporaryLockoutError)
    assert not error_for("EAPI:Invalid nonce").retryable
    assert not error_for("EService:Market in cancel_only mode").retryable


def test_a_detail_suffix_keeps_the_class_and_the_raw_text() -> None:
    exc = error_for("EGeneral:Invalid arguments:volume")
    assert type(exc) is InvalidArgumentsError
    assert exc.detail == "volume"
    assert str(exc) == "EGeneral:Invalid arguments:volume"
    internal = error_for("EGeneral:Internal error:1234")
    assert type(internal) is InternalError
    assert internal.detail == "1234"


def test_the_category_is_the_prefix() -> None:
    assert error_for("EOrder:Insufficient funds").category == "EOrder"
    assert error_for("EService: Throttled: 1").category == "EService"
    assert error_for("odd").category == "odd"


def test_the_longest_known_prefix_wins() -> None:
    exc = error_for("EGeneral:Invalid arguments:Index unavailable")
    assert type(exc) is IndexUnavailableError
    assert isinstance(exc, InvalidArgumentsError)
    assert exc.detail == ""


@pytest.mark.parametrize(
    "message", ["EService:Throttled:1700000000", "EService: Throttled: 1700000000"]
)
def test_throttled_with_either_spacing_carries_its_retry_time(message: str) -> None:
    exc = error_for(message)
    assert isinstance(exc, ThrottledError)
    assert exc.retry_at == 1_700_000_000
    assert exc.rate_limited
    assert str(exc) == message


@pytest.mark.parametrize(
    "message", ["EOrder:Something new", "EQuery:Unknown", "something odd", "", "EAPI"]
)
def test_unknown_strings_become_a_plain_kraken_error_keeping_the_text(message: str) -> None:
    exc = error_for(message)
    assert type(exc) is KrakenError
    assert exc.code == "kraken_unknown"
    assert exc.message == str(exc) == message
    assert not exc.retryable
    assert not exc.rate_limited


def test_raise_for_raises_the_first_error_and_keeps_all() -> None:
    response = ["EOrder:Insufficient funds", "EService:Busy"]
    with pytest.raises(InsufficientFundsError) as caught:
        raise_for(response)
    assert caught.value.all == tuple(response)


def test_raise_for_skips_warnings_but_keeps_them() -> None:
    response = ["WGeneral:Deprecated", "EService:Unavailable"]
    with pytest.raises(ServiceUnavailableError) as caught:
        raise_for(response)
    assert caught.value.all == tuple(response)


def test_raise_for_returns_on_no_errors_or_only_warnings() -> None:
    raise_for([])
    raise_for(["WGeneral:Deprecated"])


def test_raise_for_treats_an_unprefixed_entry_as_an_error() -> None:
    with pytest.raises(KrakenError) as caught:
        raise_for(["Invalid key"])
    assert caught.value.message == "Invalid key"


def test_raise_for_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError):
        raise_for("EService:Busy")


def test_a_second_class_for_one_string_is_refused() -> None:
    with pytest.raises(TypeError, match="already mapped"):

        class Again(errors.KrakenError, canonical=error_strings.ESERVICE_BUSY): ...


def test_specific_classes_for_the_usual_suspects() -> None:
    assert type(error_for("EAPI:Invalid nonce")) is InvalidNonceError
    assert type(error_for("EOrder:Rate limit exceeded")) is OrderRateLimitError
    assert type(error_for("EService:Busy")) is ServiceBusyError
