"""Pre-trade risk: every rule an order must pass before it may be sent, checked at once.

:func:`check_order` never raises for a bad order: each broken rule becomes a
:class:`RuleFailure` in the :class:`Verdict`, so the caller can reject with the full reason.
It raises only for a caller's mistake (a fee rate outside [0, 1)).

Spot is long only. A *reducing* order is a sell of at most the held position: it lowers risk,
so exposure limits (order notional, position, group exposure) never refuse it and the
REDUCING state lets it through; only HALTED refuses it. Everything else is checked against
the funds actually available (total minus what open orders reserve).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from aether.domain.accounts import TradingState
from aether.domain.instruments import Instrument, InstrumentRuleError
from aether.domain.money import ZERO, InvalidValueError, is_multiple
from aether.domain.orders import OrderRequest, Side
from aether.domain.universe import NotSpotUsdError, require_spot_usd
from aether.risk.exposure import group_of, group_value
from aether.risk.limits import RiskLimits

#: The window of the order-rate limit.
RATE_WINDOW_NS = 60_000_000_000


class Rule(StrEnum):
    """Stable codes of the rules; a :class:`RuleFailure` carries one of them."""

    TRADING_STATE = "trading_state"
    SYMBOL = "symbol"  # the request names another pair than the instrument
    SPOT_USD = "spot_usd"
    PRICE = "price"  # a price that cannot be used at all (not finite, reference not positive)
    POSITIVE_PRICE = "positive_price"
    POSITIVE_QUANTITY = "positive_quantity"
    TICK_SIZE = "tick_size"
    LOT_SIZE = "lot_size"
    MIN_QUANTITY = "min_quantity"
    MIN_COST = "min_cost"
    BALANCE = "balance"
    NO_SHORTING = "no_shorting"
    REDUCE_ONLY = "reduce_only"
    MAX_ORDER_NOTIONAL = "max_order_notional"
    MAX_POSITION = "max_position"
    MAX_GROUP_EXPOSURE = "max_group_exposure"
    MAX_OPEN_ORDERS = "max_open_orders"
    MAX_ORDER_RATE = "max_order_rate"
    STALE_MARKET_DATA = "stale_market_data"


@dataclass(frozen=True, slots=True)
class AccountView:
    """What pre-trade risk needs to know of the account at decision time.

    ``available`` is per asset (``USD``, ``XBT``) net of open-order reservations; a missing
    asset counts as zero. ``positions`` is base quantity per symbol, ``marks`` the latest
    price per symbol. ``recent_order_times_ns`` are submission times of recent orders.
    ``stale_symbols`` are pairs whose market data is older than its threshold: nothing
    but a reducing sell is accepted on them.
    """

    trading_state: TradingState
    available: Mapping[str, Decimal]
    positions: Mapping[str, Decimal]
    marks: Mapping[str, Decimal]
    open_orders: int
    recent_order_times_ns: Sequence[int]
    now_ns: int
    stale_symbols: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.open_orders < 0:
            raise ValueError(f"open_orders must not be negative, got {self.open_orders}")


@dataclass(frozen=True, slots=True)
class RuleFailure:
    rule: str  # a Rule value
    message: str  # human readable, with the numbers


@dataclass(frozen=True, slots=True)
class Verdict:
    """Approved when no rule failed."""

    failures: tuple[RuleFailure, ...]

    @property
    def approved(self) -> bool:
        return not self.failures

    def rules(self) -> tuple[str, ...]:
        return tuple(f.rule for f in self.failures)

    def reason(self) -> str:
        """All failure messages in one line, for a rejection reason."""
        return "; ".join(f.message for f in self.failures) or "approved"


def is_reducing(request: OrderRequest, held: Decimal) -> bool:
    """A sell of a positive quantity no larger than the ``held`` position."""
    qty = request.quantity
    return request.side is Side.SELL and qty.is_finite() and ZERO < qty <= held


def valuation_price(request: OrderRequest, price: Decimal) -> Decimal:
    """The price an order is valued at: ``price``, but a buy at the highest of ``price`` and
    its own limit and trigger prices, so a stale reference never understates what it may
    spend (a stop buy fills near its trigger, a limit buy up to its limit)."""
    if request.side is Side.SELL:
        return price
    best = price
    for own in (request.price, request.trigger_price):
        if own is not None and own.is_finite() and own > best:
            best = own
    return best


def check_order(
    request: OrderRequest,
    instrument: Instrument,
    *,
    price: Decimal,
    account: AccountView,
    limits: RiskLimits,
    fee_rate: Decimal,
) -> Verdict:
    """Every failed rule, not just the first.

    ``price`` values the order (the limit price for priced orders, else the last price; see
    :func:`valuation_price`). A buy needs ``quantity * price * (1 + fee_rate)`` of the quote
    asset available; a sell needs its quantity of the base asset available and held.
    """
    if not ZERO <= fee_rate < 1:
        raise ValueError(f"fee_rate is a fraction in [0, 1), got {fee_rate}")
    check = _Check(request, instrument, account, limits)
    check.eligibility()
    if price.is_finite() and price > ZERO:
        check.px = valuation_price(request, price)
    else:
        check.fail(Rule.PRICE, f"reference price must be positive and finite: {price}")
    check.instrument_rules()
    if check.qty_ok:
        check.funds(fee_rate)
        if check.px is not None and not check.reducing:
            check.exposure(check.px)
    check.order_counts()
    return Verdict(tuple(check.failures))


class _Check:
    """One order's check in progress: the facts every rule needs, and the failures so far."""

    def __init__(
        self,
        request: OrderRequest,
        instrument: Instrument,
        account: AccountView,
        limits: RiskLimits,
    ) -> None:
        self.request = request
        self.instrument = instrument
        self.account = account
        self.limits = limits
        self.qty = request.quantity
        self.qty_ok = self.qty.is_finite() and self.qty > ZERO
        # Spot positions are never below zero; a negative one must not widen any limit.
        self.held = max(account.positions.get(instrument.symbol, ZERO), ZERO)
        self.reducing = is_reducing(request, self.held)
        self.px: Decimal | None = None  # the valuation price, once known to be usable
        self.failures: list[RuleFailure] = []

    def fail(self, rule: Rule, message: str) -> None:
        self.failures.append(RuleFailure(rule.value, message))

    def eligibility(self) -> None:
        """May this order be traded at all: trading state, universe, reduce-only."""
        request, instrument, held = self.request, self.instrument, self.held
        state = self.account.trading_state
        if state is TradingState.HALTED:
            self.fail(Rule.TRADING_STATE, "trading is halted: no orders are accepted")
        elif state is TradingState.REDUCING and not self.reducing:
            self.fail(
                Rule.TRADING_STATE,
                f"trading is reducing: only sells of at most the held {held} "
                f"{instrument.base} are accepted, not a {request.side} of {self.qty}",
            )
        if request.symbol != instrument.symbol:
            self.fail(
                Rule.SYMBOL,
                f"order is for {request.symbol} but was checked against {instrument.symbol}",
            )
        try:
            require_spot_usd(instrument)
        except NotSpotUsdError as exc:
            self.fail(Rule.SPOT_USD, str(exc))
        if instrument.symbol in self.account.stale_symbols and not self.reducing:
            self.fail(
                Rule.STALE_MARKET_DATA,
                f"market data of {instrument.symbol} is stale: no new entries until it is fresh",
            )
        if request.reduce_only and not self.reducing:
            self.fail(
                Rule.REDUCE_ONLY,
                f"reduce-only {request.side} of {self.qty} would not reduce {held}",
            )

    def instrument_rules(self) -> None:
        """Quantity, lot, tick and minimum-cost rules, each reported on its own."""
        instrument, qty, symbol = self.instrument, self.qty, self.instrument.symbol
        if not self.qty_ok:
            self.fail(Rule.POSITIVE_QUANTITY, f"quantity must be positive for {symbol}: {qty}")
        else:
            if not is_multiple(qty, instrument.lot_size):
                self.fail(
                    Rule.LOT_SIZE,
                    f"quantity {qty} is off the lot size {instrument.lot_size:f} of {symbol}",
                )
            if qty < instrument.min_quantity:
                self.fail(
                    Rule.MIN_QUANTITY,
                    f"quantity {qty} is below the minimum {instrument.min_quantity} of {symbol}",
                )
        for field_name in ("price", "trigger_price", "trailing_offset"):
            own = getattr(self.request, field_name)
            if own is not None:
                try:
                    instrument.check_price(own, field_name)
                except InstrumentRuleError as exc:
                    self.fail(Rule(exc.rule), str(exc))
                except InvalidValueError as exc:
                    self.fail(Rule.PRICE, str(exc))
        if self.px is not None and self.qty_ok:
            try:
                instrument.check_cost(qty, self.px)
            except InstrumentRuleError as exc:
                self.fail(Rule.MIN_COST, str(exc))

    def funds(self, fee_rate: Decimal) -> None:
        """Balance and no-shorting. A buy without a usable price is refused already."""
        instrument, qty, available = self.instrument, self.qty, self.account.available
        if self.request.side is Side.BUY:
            if self.px is None:
                return
            need = qty * self.px * (1 + fee_rate)
            have = available.get(instrument.quote, ZERO)
            if need > have:
                self.fail(
                    Rule.BALANCE,
                    f"buying {qty} {instrument.symbol} at {self.px} needs {need} "
                    f"{instrument.quote} with fees, {have} is available",
                )
            return
        have = available.get(instrument.base, ZERO)
        if qty > have:
            self.fail(
                Rule.BALANCE, f"selling {qty} {instrument.base} needs it available, only {have} is"
            )
        if qty > self.held:
            self.fail(
                Rule.NO_SHORTING,
                f"selling {qty} {instrument.base} exceeds the held {self.held}: "
                "spot cannot go short",
            )

    def exposure(self, px: Decimal) -> None:
        """Notional, position and group limits, for an order that does not reduce risk."""
        limits, symbol = self.limits, self.instrument.symbol
        notional = self.qty * px
        if limits.max_order_notional is not None and notional > limits.max_order_notional:
            self.fail(
                Rule.MAX_ORDER_NOTIONAL,
                f"order notional {notional} USD exceeds the limit {limits.max_order_notional}",
            )
        if self.request.side is not Side.BUY:
            return  # a sell never adds exposure; the part beyond the position is no_shorting's
        after = (self.held + self.qty) * px
        if limits.max_position_notional is not None and after > limits.max_position_notional:
            self.fail(
                Rule.MAX_POSITION,
                f"{symbol} position after the order would be worth {after} USD, over the "
                f"limit {limits.max_position_notional}",
            )
        group = group_of(symbol, limits.correlated_groups)
        if limits.max_group_exposure is None or group is None:
            return
        try:
            others = group_value(group - {symbol}, self.account.positions, self.account.marks)
        except KeyError as missing:
            # Unknown value: refuse rather than count it as zero.
            self.fail(
                Rule.MAX_GROUP_EXPOSURE, f"no mark for {missing.args[0]} to value group exposure"
            )
            return
        if after + others > limits.max_group_exposure:
            self.fail(
                Rule.MAX_GROUP_EXPOSURE,
                f"exposure of group {{{', '.join(sorted(group))}}} after the order would be "
                f"{after + others} USD, over the limit {limits.max_group_exposure}",
            )

    def order_counts(self) -> None:
        """Open orders and the order rate, counting the order being checked."""
        account, limits = self.account, self.limits
        if limits.max_open_orders is not None and account.open_orders >= limits.max_open_orders:
            self.fail(
                Rule.MAX_OPEN_ORDERS,
                f"{account.open_orders} orders are open, one more exceeds the limit "
                f"{limits.max_open_orders}",
            )
        if limits.max_orders_per_minute is not None:
            cutoff = account.now_ns - RATE_WINDOW_NS
            # Times after now (clock skew) still count: the limit errs on the side of refusing.
            recent = sum(1 for t in account.recent_order_times_ns if t > cutoff)
            if recent + 1 > limits.max_orders_per_minute:
                self.fail(
                    Rule.MAX_ORDER_RATE,
                    f"{recent} orders in the last 60 s, one more exceeds the limit "
                    f"{limits.max_orders_per_minute} per minute",
                )
