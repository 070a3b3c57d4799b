"""Order events of the order service, turned into the venue events an engine understands.

The runner's order service publishes through :class:`RoutingSink`: every event goes to the
bus as usual and, for an account this process runs, to that account's engine (mapped to the
engine's own order id). The database stays the record; the engine learns from the same
events the bus carries.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import orjson

from aether.domain.events import (
    OrderAccepted,
    OrderCancelled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    VenueEvent,
)
from aether.domain.executions import Fill, Liquidity
from aether.domain.orders import Side
from aether.oms.publishing import EventSink

__all__ = ["RoutingSink", "venue_event"]

#: Receives an account's order event (as published) for its engine.
Route = Callable[[uuid.UUID, Mapping[str, Any]], None]


def venue_event(payload: Mapping[str, Any], engine_id: str, now_ns: int) -> VenueEvent | None:
    """The engine's event for one order event; None for kinds the engine does not follow
    (submitted, cancel_requested, amended)."""
    kind = payload.get("event")
    if kind == "accepted":
        return OrderAccepted(engine_id, now_ns)
    if kind == "rejected":
        return OrderRejected(engine_id, str(payload.get("reason") or "rejected"), now_ns)
    if kind == "cancelled":
        return OrderCancelled(engine_id, str(payload.get("reason") or "cancelled"), now_ns)
    if kind == "expired":
        return OrderExpired(engine_id, now_ns)
    if kind == "fill":
        return OrderFilled(
            Fill(
                # The same id fill_history gives a recorded fill: a restored portfolio and a
                # live one count a fill once.
                trade_id=f"{payload['venue']}:{payload['trade_id']}",
                cl_ord_id=engine_id,
                symbol=str(payload["symbol"]),
                side=Side(payload["side"]),
                quantity=Decimal(payload["fill_quantity"]),
                price=Decimal(payload["fill_price"]),
                fee=Decimal(payload["fee"]),
                fee_currency="USD",  # the order service records every fee in USD
                liquidity=Liquidity(payload["liquidity"]),
                ts_ns=now_ns,
            )
        )
    return None


class RoutingSink:
    """An :class:`EventSink` that publishes to ``bus`` and hands each event to ``route``."""

    def __init__(self, bus: EventSink | None, route: Route) -> None:
        self.bus = bus
        self.route = route

    async def publish(self, subject: str, payload: bytes) -> bool:
        message = orjson.loads(payload)
        self.route(uuid.UUID(message["account_id"]), message)
        if self.bus is None:
            return True
        return await self.bus.publish(subject, payload)
