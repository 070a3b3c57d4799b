"""Kraken's server-side rate limits, as the emulator enforces them: the REST call counter of
each API key and the trading engine's per-pair transaction counter of each account.

Both are leaky counters: a call or transaction adds points, the counter drains at a fixed
rate per second (never below 0), and what would take it past the tier's maximum is refused.
Everything here is pure: every method takes ``now`` (seconds, any monotonic-enough clock the
caller picks; the REST layer passes the runtime's wall clock), so tests can step time by hand.

Sources (Kraken's own pages):

* "Spot REST Rate Limits" (docs.kraken.com/api/docs/guides/spot-rest-ratelimits): every REST
  user has a call counter starting at 0; ledger/trade-history calls add 2, every other call
  1, except AddOrder and CancelOrder, which "operate on a different limiter". Starter: max 15,
  -0.33/s; Intermediate: 20, -0.5/s; Pro: 20, -1/s. Each API key's counter is separate. Over
  the maximum the answer is ``EAPI:Rate limit exceeded``, and calls stay "restricted for a few
  seconds (or possibly longer if calls continue to be made while the rate limits are
  active)": so a refused call still counts here, and hammering prolongs the lockout.
* "Spot Trading Limits" (docs.kraken.com/api/docs/guides/spot-ratelimits): a counter per
  client *per pair*, shared by REST, WebSocket and FIX; ``EOrder:Rate limit exceeded`` when
  the threshold is reached. Each transaction adds a *fixed* count "always applied on receipt
  of the transaction (even if the transaction fails validation)" plus a *decaying* count by
  the order's resting time since it was created or amended (bands < 5, 10, 15, 45, 90, 300 s):
  add +1; amend +1 and 3/2/1; edit +1 and 6/5/4/2/1; cancel 8/6/5/4/2/1; batch add +n/2;
  batch cancel the cancel count per order, and a batch cancel is accepted even past the
  maximum. Thresholds and decay per tier (Kraken Support "Trading rate limits" for
  Intermediate 125, 2.34/s and Pro 180, 3.75/s; Starter 60, 1/s as Kraken's kraken-cli
  guide summarises it).

Choices where the pages are loose, flagged so a client model can be checked against them:

* A call is refused when it *would* take the counter past the maximum (level + cost > max),
  so a Starter key gets 15 unit calls in a burst and the 16th is refused.
* Draining is continuous; Kraken says the REST counter drains "every couple of seconds".
* Only the fixed count of a refused (rate-limited) transaction is charged; the decaying
  count is charged when the transaction is carried out (a failed one changed no order).
* Order-entry methods other than AddOrder/CancelOrder (AddOrderBatch, CancelOrderBatch,
  EditOrder, AmendOrder) are kept off the REST counter too: they all go to the engine's
  limiter. CancelAll and CancelAllOrdersAfter are ordinary REST calls (cost 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from aether.emulator.exchange.errors import ExchangeError

__all__ = [
    "HISTORY_METHODS",
    "ORDER_RATE_LIMIT_EXCEEDED",
    "RATE_LIMIT_EXCEEDED",
    "REST_LIMITS",
    "TRADING_LIMITS",
    "TRADING_METHODS",
    "Cost",
    "Leaky",
    "Limit",
    "RateLimits",
    "Tier",
    "Transaction",
    "batch_add_cost",
    "batch_cancel_cost",
    "rest_cost",
    "transaction_cost",
]

# Spelled as aether.venues.kraken.error_strings spells them (the emulator may not import it).
RATE_LIMIT_EXCEEDED = "EAPI:Rate limit exceeded"
ORDER_RATE_LIMIT_EXCEEDED = "EOrder:Rate limit exceeded"

# Float slack: a counter that lands exactly on its maximum is within it.
_SLACK = 1e-9
# Amend times remembered per account before the oldest are forgotten (orders that filled).
_AMENDS_KEPT = 10_000


class Tier(StrEnum):
    """An account's verification tier: it sets both counters' maximum and decay."""

    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"


@dataclass(frozen=True, slots=True)
class Limit:
    """A counter's maximum and the points it drains per second."""

    maximum: float
    decay_per_s: float


REST_LIMITS: Mapping[Tier, Limit] = MappingProxyType(
    {
        Tier.STARTER: Limit(15, 0.33),
        Tier.INTERMEDIATE: Limit(20, 0.5),
        Tier.PRO: Limit(20, 1.0),
    }
)
TRADING_LIMITS: Mapping[Tier, Limit] = MappingProxyType(
    {
        Tier.STARTER: Limit(60, 1.0),
        Tier.INTERMEDIATE: Limit(125, 2.34),
        Tier.PRO: Limit(180, 3.75),
    }
)

#: Private methods charged to the trading engine's counter instead of the REST counter.
TRADING_METHODS = frozenset(
    {"AddOrder", "AddOrderBatch", "CancelOrder", "CancelOrderBatch", "EditOrder", "AmendOrder"}
)
#: "Ledger/trade history calls increase the counter by 2".
HISTORY_METHODS = frozenset({"Ledgers", "QueryLedgers", "TradesHistory", "QueryTrades"})


def rest_cost(method: str) -> int:
    """Points a private REST method adds to its API key's call counter."""
    if method in TRADING_METHODS:
        return 0
    return 2 if method in HISTORY_METHODS else 1


class Transaction(StrEnum):
    ADD = "add"
    AMEND = "amend"
    EDIT = "edit"
    CANCEL = "cancel"


# Upper ends (exclusive) of the resting-time bands, in seconds.
_BANDS_S = (5.0, 10.0, 15.0, 45.0, 90.0, 300.0)
# (fixed, decaying count per band; bands past the tuple's end add nothing).
_COUNTS: Mapping[Transaction, tuple[float, tuple[float, ...]]] = MappingProxyType(
    {
        Transaction.ADD: (1.0, ()),
        Transaction.AMEND: (1.0, (3.0, 2.0, 1.0)),
        Transaction.EDIT: (1.0, (6.0, 5.0, 4.0, 2.0, 1.0)),
        Transaction.CANCEL: (0.0, (8.0, 6.0, 5.0, 4.0, 2.0, 1.0)),
    }
)


@dataclass(frozen=True, slots=True)
class Cost:
    """What one transaction adds to its pair's counter: ``fixed`` on receipt, ``decaying``
    (by the order's resting time) when it is carried out."""

    fixed: float
    decaying: float = 0.0

    @property
    def total(self) -> float:
        return self.fixed + self.decaying


def _decaying(counts: tuple[float, ...], age_s: float) -> float:
    for upper, points in zip(_BANDS_S, counts, strict=False):
        if age_s < upper:
            return points
    return 0.0


def transaction_cost(kind: Transaction, age_s: float | None = None) -> Cost:
    """The cost of one transaction; ``age_s`` is the order's resting time since it was
    created or last amended (ignored for add; None, for an order not found, means the
    fixed count only)."""
    fixed, counts = _COUNTS[kind]
    if age_s is None or not counts:
        return Cost(fixed)
    return Cost(fixed, _decaying(counts, max(0.0, age_s)))


def batch_add_cost(orders: int) -> Cost:
    """Batch add: a fixed ``n/2``."""
    return Cost(max(0, orders) / 2)


def batch_cancel_cost(ages_s: Iterable[float]) -> Cost:
    """Batch cancel: the cancel count of each order by its resting time."""
    return Cost(0.0, sum(transaction_cost(Transaction.CANCEL, age).decaying for age in ages_s))


class Leaky:
    """One leaky counter: ``points`` as of time ``at``."""

    __slots__ = ("at", "points")

    def __init__(self) -> None:
        self.points = 0.0
        self.at = 0.0

    def level(self, now: float, decay_per_s: float) -> float:
        """The counter at ``now``; a clock that steps back drains nothing."""
        if self.points <= 0.0:
            return 0.0
        return max(0.0, self.points - max(0.0, now - self.at) * decay_per_s)

    def add(self, points: float, now: float, decay_per_s: float) -> float:
        """Drain to ``now``, add ``points``; returns the new level."""
        self.points = self.level(now, decay_per_s) + points
        self.at = max(self.at, now)
        return self.points


class RateLimits:
    """The emulator's counters: REST per API key, trading per account and pair.

    In the emulator an account has exactly one API key, so both are keyed by the key. With
    ``enabled`` False nothing is counted and nothing refused. Tiers are per account
    (:meth:`set_tier`), ``default_tier`` otherwise.
    """

    def __init__(self, *, enabled: bool = True, default_tier: Tier = Tier.STARTER) -> None:
        self.enabled = enabled
        self.default_tier = default_tier
        self._tiers: dict[str, Tier] = {}
        self._rest: dict[str, Leaky] = {}
        self._trading: dict[tuple[str, str], Leaky] = {}
        self._amended: dict[str, dict[str, float]] = {}

    # --- tiers ---------------------------------------------------------------------------

    def set_tier(self, account: str, tier: Tier) -> None:
        self._tiers[account] = tier

    def tier(self, account: str) -> Tier:
        return self._tiers.get(account, self.default_tier)

    # --- the REST call counter -----------------------------------------------------------

    def rest_level(self, key: str, now: float) -> float:
        counter = self._rest.get(key)
        decay = REST_LIMITS[self.tier(key)].decay_per_s
        return 0.0 if counter is None else counter.level(now, decay)

    def charge_rest(self, key: str, method: str, now: float) -> None:
        """Count a private call of ``method``; ``EAPI:Rate limit exceeded`` when it would take
        the key's counter past its maximum. A refused call is counted all the same."""
        cost = rest_cost(method)
        if not self.enabled or cost == 0:
            return
        limit = REST_LIMITS[self.tier(key)]
        counter = self._rest.setdefault(key, Leaky())
        if counter.add(cost, now, limit.decay_per_s) > limit.maximum + _SLACK:
            raise ExchangeError(RATE_LIMIT_EXCEEDED)

    # --- the trading engine's counter ----------------------------------------------------

    def trading_level(self, account: str, pair: str, now: float) -> float:
        counter = self._trading.get((account, pair))
        decay = TRADING_LIMITS[self.tier(account)].decay_per_s
        return 0.0 if counter is None else counter.level(now, decay)

    def admit(
        self, account: str, pair: str, cost: Cost, now: float, *, batch: bool = False
    ) -> None:
        """Receive a transaction on ``pair``: its fixed count is charged at once, and it is
        refused with ``EOrder:Rate limit exceeded`` when its whole cost would take the
        counter past the threshold (never for a ``batch`` cancel, which Kraken accepts).
        Charge the decaying count with :meth:`charge` once the transaction is done."""
        if not self.enabled:
            return
        limit = TRADING_LIMITS[self.tier(account)]
        counter = self._trading.setdefault((account, pair), Leaky())
        level = counter.level(now, limit.decay_per_s)
        counter.add(cost.fixed, now, limit.decay_per_s)
        if not batch and level + cost.total > limit.maximum + _SLACK:
            raise ExchangeError(ORDER_RATE_LIMIT_EXCEEDED)

    def charge(self, account: str, pair: str, points: float, now: float) -> None:
        """Add ``points`` (a transaction's decaying count) to the pair's counter."""
        if not self.enabled or points <= 0:
            return
        limit = TRADING_LIMITS[self.tier(account)]
        self._trading.setdefault((account, pair), Leaky()).add(points, now, limit.decay_per_s)

    @contextmanager
    def transaction(
        self, account: str, pair: str, cost: Cost, now: float, *, batch: bool = False
    ) -> Iterator[None]:
        """``with limits.transaction(...): <carry it out>``: :meth:`admit` on entry, the
        decaying count charged only if the body finishes without raising."""
        self.admit(account, pair, cost, now, batch=batch)
        yield
        self.charge(account, pair, cost.decaying, now)

    # --- order ages ----------------------------------------------------------------------

    def note_amended(self, account: str, txid: str, now: float) -> None:
        """Remember an amend: the order's resting time restarts at ``now``."""
        amended = self._amended.setdefault(account, {})
        amended.pop(txid, None)
        amended[txid] = now
        if len(amended) > _AMENDS_KEPT:
            del amended[next(iter(amended))]

    def forget(self, account: str, txid: str) -> None:
        self._amended.get(account, {}).pop(txid, None)

    def order_age(self, account: str, txid: str, opened_s: float, now: float) -> float:
        """Seconds ``txid`` has rested since it was created (``opened_s``) or last amended."""
        since = max(opened_s, self._amended.get(account, {}).get(txid, opened_s))
        return max(0.0, now - since)
