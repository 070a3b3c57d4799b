"""Kraken error strings as typed exceptions with stable codes and retry flags.

Every documented string (spelled in :mod:`aether.venues.kraken.error_strings`) maps to one
exception class with a stable ``code`` for logs, metrics and API answers, derived from the
string (``EAPI:Invalid key`` -> ``api_invalid_key``). Flags say what a caller may do:

* ``retryable``: the venue refused for a passing reason (busy, offline, throttled); the
  *same* request may be sent again after a pause (with a fresh nonce). Nothing else is
  retryable: bad keys, nonces or arguments fail the same way again.
* ``rate_limited``: a rate limit refused it; slow down (see ``rate_limit.py``).

Strings may carry extra info after another colon (``EGeneral:Invalid arguments:volume``,
``EGeneral:Internal error:<code>``, ``EService:Throttled:<unix time>``); the longest known
prefix decides the class and the rest is ``detail``. An unknown string becomes a plain
:class:`KrakenError`; the raw text is always kept in ``message`` and ``str(exc)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

from aether.venues.kraken import error_strings as s

_REGISTRY: dict[str, type[KrakenError]] = {}


def _code_for(canonical: str) -> str:
    """``EAPI:Invalid key`` -> ``api_invalid_key``: category without its ``E``, then the
    message, lower snake case. Stable because Kraken's spelling is the contract."""
    category, _, rest = canonical.partition(":")
    return re.sub(r"[^a-z0-9]+", "_", f"{category[1:]}_{rest}".lower()).strip("_")


class KrakenError(Exception):
    """An error Kraken returned; ``message`` is its raw text, ``all`` every entry of the
    response's error array (warnings included)."""

    canonical: ClassVar[str] = ""
    code: ClassVar[str] = "kraken_unknown"
    retryable: ClassVar[bool] = False
    rate_limited: ClassVar[bool] = False

    def __init_subclass__(cls, canonical: str = "", code: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if canonical:
            if canonical in _REGISTRY:
                raise TypeError(f"{canonical!r} is already mapped to {_REGISTRY[canonical]}")
            cls.canonical = canonical
            _REGISTRY[canonical] = cls
        if code or canonical:
            cls.code = code or _code_for(canonical)

    def __init__(self, message: str, detail: str = "", all_errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.all: tuple[str, ...] = tuple(all_errors) or (message,)

    @property
    def category(self) -> str:
        """The prefix before the first colon, e.g. ``EOrder``."""
        return self.message.split(":", 1)[0].strip()


class RetryableError(KrakenError):
    """Refused for a passing reason: the same request may be sent again after a pause."""

    retryable = True


class RateLimitedError(RetryableError):
    """Refused by a rate limit: wait for the counter to decay before sending again."""

    rate_limited = True


# Categories
class GeneralError(KrakenError, code="general_error"): ...


class ApiError(KrakenError, code="api_error"): ...


class AuthError(KrakenError, code="auth_error"): ...


class QueryError(KrakenError, code="query_error"): ...


class OrderError(KrakenError, code="order_error"): ...


class TradeError(KrakenError, code="trade_error"): ...


class FundingError(KrakenError, code="funding_error"): ...


class ServiceError(KrakenError, code="service_error"): ...


class BusinessLimitError(KrakenError, code="business_limit_error"): ...


# One class per string; its code is derived from the string (see _code_for).
class InvalidArgumentsError(GeneralError, canonical=s.EGENERAL_INVALID_ARGUMENTS): ...


class IndexUnavailableError(InvalidArgumentsError, canonical=s.EGENERAL_INDEX_UNAVAILABLE): ...


class PermissionDeniedError(GeneralError, canonical=s.EGENERAL_PERMISSION_DENIED): ...


class UnknownMethodError(GeneralError, canonical=s.EGENERAL_UNKNOWN_METHOD): ...


class InternalError(GeneralError, canonical=s.EGENERAL_INTERNAL_ERROR): ...


class TemporaryLockoutError(
    GeneralError, RateLimitedError, canonical=s.EGENERAL_TEMPORARY_LOCKOUT
): ...


class InvalidKeyError(ApiError, canonical=s.EAPI_INVALID_KEY): ...


class InvalidSignatureError(ApiError, canonical=s.EAPI_INVALID_SIGNATURE): ...


class InvalidNonceError(ApiError, canonical=s.EAPI_INVALID_NONCE): ...


class ApiRateLimitError(ApiError, RateLimitedError, canonical=s.EAPI_RATE_LIMIT_EXCEEDED): ...


class FeatureDisabledError(ApiError, canonical=s.EAPI_FEATURE_DISABLED): ...


class AccountDisabledError(AuthError, canonical=s.EAUTH_ACCOUNT_TEMPORARY_DISABLED): ...


class AccountUnconfirmedError(AuthError, canonical=s.EAUTH_ACCOUNT_UNCONFIRMED): ...


class AuthRateLimitError(AuthError, RateLimitedError, canonical=s.EAUTH_RATE_LIMIT_EXCEEDED): ...


class AuthTooManyRequestsError(
    AuthError, RateLimitedError, canonical=s.EAUTH_TOO_MANY_REQUESTS
): ...


class UnknownAssetPairError(QueryError, canonical=s.EQUERY_UNKNOWN_ASSET_PAIR): ...


class UnknownAssetError(QueryError, canonical=s.EQUERY_UNKNOWN_ASSET): ...


class CannotOpenPositionError(OrderError, canonical=s.EORDER_CANNOT_OPEN_POSITION): ...


class CannotOpenOpposingPositionError(
    OrderError, canonical=s.EORDER_CANNOT_OPEN_OPPOSING_POSITION
): ...


class MarginAllowanceExceededError(OrderError, canonical=s.EORDER_MARGIN_ALLOWANCE_EXCEEDED): ...


class MarginLevelTooLowError(OrderError, canonical=s.EORDER_MARGIN_LEVEL_TOO_LOW): ...


class MarginPositionSizeExceededError(
    OrderError, canonical=s.EORDER_MARGIN_POSITION_SIZE_EXCEEDED
): ...


class InsufficientMarginError(OrderError, canonical=s.EORDER_INSUFFICIENT_MARGIN): ...


class InsufficientFundsError(OrderError, canonical=s.EORDER_INSUFFICIENT_FUNDS): ...


class OrderMinimumNotMetError(OrderError, canonical=s.EORDER_ORDER_MINIMUM_NOT_MET): ...


class CostMinimumNotMetError(OrderError, canonical=s.EORDER_COST_MINIMUM_NOT_MET): ...


class TickSizeCheckFailedError(OrderError, canonical=s.EORDER_TICK_SIZE_CHECK_FAILED): ...


class OrdersLimitExceededError(OrderError, canonical=s.EORDER_ORDERS_LIMIT_EXCEEDED): ...


class OrderRateLimitError(OrderError, RateLimitedError, canonical=s.EORDER_RATE_LIMIT_EXCEEDED): ...


class DomainRateLimitError(
    OrderError, RateLimitedError, canonical=s.EORDER_DOMAIN_RATE_LIMIT_EXCEEDED
): ...


class PositionsLimitExceededError(OrderError, canonical=s.EORDER_POSITIONS_LIMIT_EXCEEDED): ...


class ScheduledOrdersLimitExceededError(
    OrderError, canonical=s.EORDER_SCHEDULED_ORDERS_LIMIT_EXCEEDED
): ...


class UnknownPositionError(OrderError, canonical=s.EORDER_UNKNOWN_POSITION): ...


class UnknownOrderError(OrderError, canonical=s.EORDER_UNKNOWN_ORDER): ...


class InvalidPriceError(OrderError, canonical=s.EORDER_INVALID_PRICE): ...


class ReduceOnlyNoPositionError(OrderError, canonical=s.EORDER_REDUCE_ONLY_NO_POSITION): ...


class TradingAgreementRequiredError(OrderError, canonical=s.EORDER_TRADING_AGREEMENT_REQUIRED): ...


class PostOnlyOrderError(OrderError, canonical=s.EORDER_POST_ONLY): ...


class DuplicateOrderError(OrderError, canonical=s.EORDER_DUPLICATE_ORDER): ...


class InvalidTradeRequestError(TradeError, canonical=s.ETRADE_INVALID_REQUEST): ...


class InvalidAmountError(FundingError, canonical=s.EFUNDING_INVALID_AMOUNT): ...


class UnknownWithdrawKeyError(FundingError, canonical=s.EFUNDING_UNKNOWN_WITHDRAW_KEY): ...


class UnknownReferenceIdError(FundingError, canonical=s.EFUNDING_UNKNOWN_REFERENCE_ID): ...


class MaxFeeExceededError(FundingError, canonical=s.EFUNDING_MAX_FEE_EXCEEDED): ...


class NoFundingMethodError(FundingError, canonical=s.EFUNDING_NO_FUNDING_METHOD): ...


class TooManyAddressesError(FundingError, canonical=s.EFUNDING_TOO_MANY_ADDRESSES): ...


class ServiceUnavailableError(ServiceError, RetryableError, canonical=s.ESERVICE_UNAVAILABLE): ...


class ServiceBusyError(ServiceError, RetryableError, canonical=s.ESERVICE_BUSY): ...


class CancelOnlyModeError(ServiceError, canonical=s.ESERVICE_CANCEL_ONLY): ...


class PostOnlyModeError(ServiceError, canonical=s.ESERVICE_POST_ONLY): ...


class DeadlineElapsedError(ServiceError, RetryableError, canonical=s.ESERVICE_DEADLINE_ELAPSED): ...


class ThrottledError(ServiceError, RateLimitedError, canonical=s.ESERVICE_THROTTLED):
    @property
    def retry_at(self) -> int | None:
        """The Unix time Kraken named for trying again, when it named one."""
        return int(self.detail) if self.detail.isdigit() else None


class CanadianAcquisitionLimitError(BusinessLimitError, canonical=s.EBM_LIMIT_EXCEEDED_CAL): ...


#: Every canonical string and its class.
KRAKEN_ERRORS: Mapping[str, type[KrakenError]] = MappingProxyType(dict(_REGISTRY))


def error_for(message: str) -> KrakenError:
    """The exception for one error string (not raised); unknown strings give KrakenError."""
    # Kraken's own pages space the colons differently ("EService: Throttled: <t>").
    parts = [part.strip() for part in message.split(":")]
    for n in range(len(parts), 1, -1):
        cls = KRAKEN_ERRORS.get(":".join(parts[:n]))
        if cls is not None:
            return cls(message, detail=":".join(parts[n:]))
    return KrakenError(message)


def raise_for(errors: Sequence[str]) -> None:
    """Raise the first error of a response's ``error`` array, keeping all in ``.all``.

    Warnings (entries starting with ``W``) do not fail a call: an array of only warnings
    returns None. Any other entry is an error, whatever its prefix (fail closed).
    """
    if isinstance(errors, str):
        raise TypeError("raise_for takes the error array, not a single string")
    for entry in errors:
        if not entry.startswith("W"):
            exc = error_for(entry)
            exc.all = tuple(errors)
            raise exc
