"""The Venue protocol: the one interface between the engine and where orders go.

The SimBroker (paper and backtest) and the Kraken adapter (live) both implement it. Commands
do not block and return nothing: what the venue did arrives later as events from ``poll``,
in the order it happened, so a fast simulator and a networked exchange look the same to the
engine.
"""

from __future__ import annotations

from typing import Protocol

from aether.domain.bars import Bar
from aether.domain.events import Tick, VenueEvent
from aether.domain.orders import OrderRequest


class Venue(Protocol):
    """Commands out, events in."""

    name: str

    def submit(self, request: OrderRequest, now_ns: int) -> None:
        """Send a new order; acceptance, rejection and fills are reported by ``poll``."""
        ...

    def cancel(self, cl_ord_id: str, now_ns: int) -> None:
        """Ask to cancel an open order; an unknown or finished order is reported, not raised."""
        ...

    def poll(self) -> list[VenueEvent]:
        """Events since the last poll, oldest first (an empty list when nothing happened)."""
        ...


class SimulatedMarket(Protocol):
    """A simulated venue that must see market data before the engine does."""

    def on_bar(self, bar: Bar) -> None: ...

    def on_trade(self, tick: Tick) -> None: ...
