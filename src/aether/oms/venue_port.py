"""What the order service needs of a venue: send, cancel, look up by ``cl_ord_id``, and the
account's balances, a pair's quote and the account's trades.

Rules an implementation must keep:

* ``submit`` places an order at most once per ``cl_ord_id``. It returns the venue's order
  id, raises :class:`VenueRefused` when the venue said no (nothing was placed), and
  :class:`VenueOutcomeUnknown` when it cannot tell (timeout, lost connection): the caller
  then resolves by ``find`` before any resend.
* ``cancel`` returns True when an open order was cancelled, False when the venue has no open
  order with that ``cl_ord_id`` (finished, or never placed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

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
