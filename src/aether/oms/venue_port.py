"""What the order service needs of a venue: send, cancel, look up by ``cl_ord_id``, and the
account's balances, a pair's quote and the account's trades.

Rules an implementation must keep:

* ``submit`` places an order at most once per ``cl_ord_id``. It returns the venue's order
  id, raises :class:`VenueRefused` when the venue said no (nothing was placed), and
  :class:`VenueOutcomeUnknown` when it cannot tell (timeout, lost connection): the caller
  then resolves by ``find`` before any resend.
* ``cancel`` returns True when an open order was cancelled, False when the venue has no open
  order with that ``cl_ord_id`` (finished, or never placed).
* Amending in place is a capability: a venue that has it sets ``supports_amend = True`` and
  implements :class:`AmendingVenue` (``amend`` keeps the order's ids; values are absolute, so
  a repeated amend ends where one would). Without it the order service cancels and replaces.
* Reconciliation needs reads beyond these: a venue that has them implements
  :class:`ReconcilableVenue` (every open order, an order by the venue's id, every balance).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol, cast, runtime_checkable

from aether.domain.orders import OrderRequest


class VenueRefused(Exception):
    """The venue refused the command; ``reason`` is its text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class VenueOutcomeUnknown(Exception):
    """The command's outcome is unknown (no answer): resolve by ``cl_ord_id`` first."""


class VenueOrderState(StrEnum):
    """Where an order stands at the venue, as far as a look-up can tell."""

    OPEN = "open"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class VenueOrder:
    venue_order_id: str
    state: VenueOrderState
    filled_quantity: Decimal


@dataclass(frozen=True, slots=True)
class VenueQuote:
    bid: Decimal
    ask: Decimal
    last: Decimal

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class VenueTrade:
    """One execution of the account, as the venue reports it."""

    trade_id: str
    venue_order_id: str
    symbol: str
    side: str
    price: Decimal
    quantity: Decimal
    fee: Decimal
    maker: bool
    ts_ns: int


@dataclass(frozen=True, slots=True)
class VenueOpenOrder:
    """An order the venue has open for the account, as reconciliation reads it: enough to
    write it as an order row. ``cl_ord_id`` is None when it was placed without one."""

    venue_order_id: str
    cl_ord_id: str | None
    symbol: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    time_in_force: str
    expire_at_s: int | None
    post_only: bool
    filled_quantity: Decimal
    opened_at_ns: int


@dataclass(frozen=True, slots=True)
class VenueBalance:
    """One asset of the account at the venue: its total and what open orders hold."""

    total: Decimal
    held: Decimal


class OrderVenue(Protocol):
    """One account's venue for the order service."""

    name: str

    async def submit(self, request: OrderRequest) -> str: ...

    async def cancel(self, cl_ord_id: str) -> bool: ...

    async def find(self, cl_ord_id: str) -> VenueOrder | None: ...

    async def available(self, assets: Iterable[str]) -> Mapping[str, Decimal]: ...

    async def quote(self, symbol: str) -> VenueQuote: ...

    async def trades(self, since_ns: int) -> list[VenueTrade]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class ReconcilableVenue(OrderVenue, Protocol):
    """A venue reconciliation can read: every open order, orders by the venue's ids (those
    it does not know left out), and every balance. Reads only: it never sends a command."""

    async def open_orders(self) -> list[VenueOpenOrder]: ...

    async def query(self, venue_order_ids: Sequence[str]) -> Mapping[str, VenueOrder]: ...

    async def balances(self) -> Mapping[str, VenueBalance]: ...


class AmendingVenue(OrderVenue, Protocol):
    """A venue that amends an open order in place (Kraken's AmendOrder)."""

    supports_amend: bool

    async def amend(
        self,
        cl_ord_id: str,
        *,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> str:
        """Amend the open order; the venue's amend id. ``quantity`` is the new total,
        ``price`` the limit, ``trigger_price`` the trigger; None leaves a value as it is.
        VenueRefused when the venue said no (the order is unchanged)."""
        ...


def amending(venue: OrderVenue) -> AmendingVenue | None:
    """``venue`` as an :class:`AmendingVenue` when it declares the capability, else None."""
    if getattr(venue, "supports_amend", False) is True:
        return cast(AmendingVenue, venue)
    return None
