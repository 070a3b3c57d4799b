"""What venues report about orders, and the market events the engine consumes.

Venue events flow in; commands (submit, cancel) flow out through the ``Venue`` protocol.
Timestamps are UTC epoch nanoseconds, set by whoever produced the event (never a clock here).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from aether.domain.executions import Fill


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    cl_ord_id: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderRejected:
    cl_ord_id: str
    reason: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """Cancelled by request or by the venue; what filled before stays filled."""

    cl_ord_id: str
    reason: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderExpired:
    """Time in force ran out (IOC remainder, GTD expiry)."""

    cl_ord_id: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class OrderFilled:
    fill: Fill

    @property
    def cl_ord_id(self) -> str:
        return self.fill.cl_ord_id

    @property
    def ts_ns(self) -> int:
        return self.fill.ts_ns


VenueEvent = OrderAccepted | OrderRejected | OrderCancelled | OrderExpired | OrderFilled


@dataclass(frozen=True, slots=True)
class Tick:
    """One trade printed on the venue: the finest price event the engine reacts to."""

    symbol: str
    price: Decimal
    quantity: Decimal
    ts_ns: int
    trade_id: int | None = None  # the venue's id of the print, unique per pair
    side: str | None = None  # "buy" or "sell": the taker's side


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """The top of one pair's order book: bids best (highest) first, asks best (lowest) first."""

    symbol: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    ts_ns: int


@dataclass(frozen=True, slots=True)
class Quote:
    """The best bid and ask of a pair and its last trade price (a venue's ticker)."""

    symbol: str
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    last: Decimal
    ts_ns: int


@dataclass(frozen=True, slots=True)
class MarketDataStale:
    """A pair's market data is older than its threshold: no new entries on it until fresh."""

    symbol: str
    last_data_ns: int  # the time of the pair's last data (0 when it never had any)
    ts_ns: int


@dataclass(frozen=True, slots=True)
class MarketDataFresh:
    """A pair's market data flows again after it was stale."""

    symbol: str
    ts_ns: int


MarketDataStatus = MarketDataStale | MarketDataFresh
