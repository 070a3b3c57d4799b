"""Client-side models of Kraken's two Spot rate counters, so calls wait instead of failing.

Both are leaky counters: each call adds a cost, the counter drains at a fixed rate per
second (never below 0), and a call is refused when it would push the counter past the
maximum. The models here are pure: the caller passes ``now`` (monotonic seconds) to every
method, asks :meth:`delay_for` how long to wait, waits, sends, then calls :meth:`record`.
Draining is modelled as continuous; Kraken says the REST counter drains "every couple of
seconds", so between drains the model may be up to a couple of seconds' decay ahead of the
venue. Callers that run at the limit for long should leave that margin.

* :class:`RestCounter`, one per API key: "Spot REST Rate Limits"
  (docs.kraken.com/api/docs/guides/spot-rest-ratelimits).
* :class:`TradingCounter`, one counter per pair for all order entry over REST, WebSocket
  and FIX: "Spot Trading Limits" (docs.kraken.com/api/docs/guides/spot-ratelimits) and
  Kraken Support's "Trading rate limits" article.

Counters are floats: they are not money, and Batch Add costs half a point per order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "REST_LIMITS",
    "TRADING_LIMITS",
    "CounterLimits",
    "RestCounter",
    "Tier",
    "TradeAction",
    "TradingCounter",
    "batch_add_cost",
    "batch_cancel_cost",
    "rest_cost",
    "trading_cost",
]

# Floating-point slack so a caller who waited exactly ``delay_for`` is not told to wait again.
_EPSILON = 1e-9


class Tier(StrEnum):
    """The account verification tier, which sets both counters' maximum and decay."""

    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"


@dataclass(frozen=True, slots=True)
class CounterLimits:
    """A counter's ceiling and how many points it loses per second."""

    maximum: float
    decay_per_s: float


# "Spot REST Rate Limits": Max API Counter / API Counter Decay per tier.
REST_LIMITS: Mapping[Tier, CounterLimits] = MappingProxyType(
    {
        Tier.STARTER: CounterLimits(15, 0.33),
        Tier.INTERMEDIATE: CounterLimits(20, 0.5),
        Tier.PRO: CounterLimits(20, 1.0),
    }
)

# "Spot Trading Limits" / Support "Trading rate limits": threshold and decay per tier
# (Starter 60 and 1/s as summarised in Kraken's own kraken-cli rate-limit guide).
TRADING_LIMITS: Mapping[Tier, CounterLimits] = MappingProxyType(
    {
        Tier.STARTER: CounterLimits(60, 1.0),
        Tier.INTERMEDIATE: CounterLimits(125, 2.34),
        Tier.PRO: CounterLimits(180, 3.75),
    }
)

# "Ledger/trade history calls increase the counter by 2 ... (except AddOrder, CancelOrder
# which operate on a different limiter)". QueryTrades is charged 2 too: it reads trade
# history, and over-charging only makes the client wait a little longer.
_REST_COSTS: Mapping[str, int] = MappingProxyType(
    {
        "Ledgers": 2,
        "QueryLedgers": 2,
        "TradesHistory": 2,
        "QueryTrades": 2,
        "AddOrder": 0,
        "CancelOrder": 0,
    }
)


def rest_cost(method: str) -> int:
    """The REST counter cost of a private method by its URL name (``Balance`` -> 1).

    Only AddOrder and CancelOrder are documented as exempt; other order methods (batch,
    edit, amend, cancel-all) are charged 1 because the docs are silent and waiting is safer
    than a lockout.
    """
    return _REST_COSTS.get(method, 1)


class TradeAction(StrEnum):
    ADD = "add"
    AMEND = "amend"
    EDIT = "edit"
    CANCEL = "cancel"


# "Spot Trading Limits", "Incrementing the rate counter": a fixed count on receipt (even if
# the transaction fails validation) plus a decaying count by the order's resting time since
# it was created or amended, in bands < 5 s, < 10 s, < 15 s, < 45 s, < 90 s, < 300 s.
_AGE_BANDS_S = (5.0, 10.0, 15.0, 45.0, 90.0, 300.0)
_PENALTIES: Mapping[TradeAction, tuple[int, tuple[int, ...]]] = MappingProxyType(
    {
        TradeAction.ADD: (1, (0, 0, 0, 0, 0, 0)),
        TradeAction.AMEND: (1, (3, 2, 1, 0, 0, 0)),
        TradeAction.EDIT: (1, (6, 5, 4, 2, 1, 0)),
        TradeAction.CANCEL: (0, (8, 6, 5, 4, 2, 1)),
    }
)


def trading_cost(action: TradeAction, order_age_s: float | None = None) -> float:
    """Points one transaction adds to its pair's counter.

    ``order_age_s`` (seconds since the order was created or last amended) is required for
    amend, edit and cancel and ignored for add. An order resting 300 s or more costs only
    the fixed count.
    """
    fixed, decaying = _PENALTIES[action]
    if action is TradeAction.ADD:
        return float(fixed)
    if order_age_s is None or order_age_s < 0:
        raise ValueError(f"{action} needs the order's age in seconds (>= 0), got {order_age_s}")
    for band, points in zip(_AGE_BANDS_S, decaying, strict=True):
        if order_age_s < band:
            return float(fixed + points)
    return float(fixed)


def batch_add_cost(orders: int) -> float:
    """Batch Add: a fixed ``+(n/2)`` for ``n`` orders."""
    if orders < 1:
        raise ValueError(f"a batch holds at least one order, got {orders}")
    return orders / 2


def batch_cancel_cost(order_ages_s: Iterable[float]) -> float:
    """Batch Cancel: each order costs what its single cancel would (``+(8 x n)`` ...)."""
    return sum(trading_cost(TradeAction.CANCEL, age) for age in order_ages_s)


class _Leaky:
    """One leaky counter: ``level`` points as of time ``at``."""

    __slots__ = ("at", "level")

    def __init__(self) -> None:
        self.level = 0.0
        self.at = float("-inf")

    def drained(self, now: float, decay: float) -> float:
        # A clock that steps back drains nothing rather than refilling the counter.
        elapsed = max(0.0, now - self.at)
        return max(0.0, self.level - elapsed * decay) if self.level else 0.0

    def delay_for(self, cost: float, now: float, limits: CounterLimits) -> float:
        if cost < 0:
            raise ValueError(f"cost must not be negative, got {cost}")
        # A cost above the maximum can never fit; the best is to send on an empty counter
        # (Kraken still accepts a batch cancel whose count exceeds the maximum).
        target = max(limits.maximum - cost, 0.0)
        excess = self.drained(now, limits.decay_per_s) - target
        return excess / limits.decay_per_s if excess > _EPSILON else 0.0

    def record(self, cost: float, now: float, limits: CounterLimits) -> None:
        if cost < 0:
            raise ValueError(f"cost must not be negative, got {cost}")
        self.level = self.drained(now, limits.decay_per_s) + cost
        self.at = max(self.at, now)

    def fill(self, now: float, limits: CounterLimits) -> None:
        self.level = max(self.drained(now, limits.decay_per_s), limits.maximum)
        self.at = max(self.at, now)


class RestCounter:
    """The REST call counter of one API key at ``tier`` (see :func:`rest_cost`)."""

    def __init__(self, tier: Tier) -> None:
        self.tier = tier
        self.limits = REST_LIMITS[tier]
        self._counter = _Leaky()

    def level(self, now: float) -> float:
        return self._counter.drained(now, self.limits.decay_per_s)

    def delay_for(self, cost: int, now: float) -> float:
        """Seconds to wait from ``now`` so a call of ``cost`` keeps the counter at or below
        its maximum (Kraken refuses when the counter "exceeds the maximum value")."""
        return self._counter.delay_for(cost, now, self.limits)

    def record(self, cost: int, now: float) -> None:
        """Count a call sent at ``now``; count refused calls too, Kraken does."""
        self._counter.record(cost, now, self.limits)

    def saturate(self, now: float) -> None:
        """Kraken refused for the rate limit: its counter is full whatever this model said
        (another process used the key, or this one started with the key in use)."""
        self._counter.fill(now, self.limits)


class TradingCounter:
    """The matching engine's per-pair transaction counters of one account at ``tier``.

    ``pair`` is any stable name for the pair (use one naming scheme throughout). Kraken's
    counter is shared by every protocol and API key of the account, so use one model per
    account, and count failed transactions too: the fixed count applies to them.
    """

    def __init__(self, tier: Tier) -> None:
        self.tier = tier
        self.limits = TRADING_LIMITS[tier]
        self._pairs: dict[str, _Leaky] = {}

    def _counter(self, pair: str) -> _Leaky:
        counter = self._pairs.get(pair)
        if counter is None:
            counter = self._pairs[pair] = _Leaky()
        return counter

    def level(self, pair: str, now: float) -> float:
        return self._counter(pair).drained(now, self.limits.decay_per_s)

    def delay_for(
        self, pair: str, action: TradeAction, order_age_s: float | None, now: float
    ) -> float:
        """Seconds to wait before ``action`` on ``pair`` keeps the counter within the
        threshold (Kraken: the limit is reached when the counter "exceeds a maximum")."""
        return self.delay_for_cost(pair, trading_cost(action, order_age_s), now)

    def record(self, pair: str, action: TradeAction, order_age_s: float | None, now: float) -> None:
        self.record_cost(pair, trading_cost(action, order_age_s), now)

    def saturate(self, pair: str, now: float) -> None:
        """Kraken refused an order entry on ``pair`` for its rate limit: the pair's counter
        is full whatever this model said."""
        self._counter(pair).fill(now, self.limits)

    def delay_for_cost(self, pair: str, cost: float, now: float) -> float:
        """As :meth:`delay_for` for a precomputed cost (batches: :func:`batch_add_cost`)."""
        return self._counter(pair).delay_for(cost, now, self.limits)

    def record_cost(self, pair: str, cost: float, now: float) -> None:
        self._counter(pair).record(cost, now, self.limits)
