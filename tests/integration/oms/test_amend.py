"""Amend on a real database and a real emulator: Kraken's AmendOrder in place (same txid),
cancel-replace on a venue without amend (old cancelled, new open, linked), and refusals that
write nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from aether.domain.orders import OrderRequest, OrderType, Side
from aether.oms.amend import AmendMethod
from aether.oms.errors import OrderNotFound, OrderNotOpen, OrderRefused
from aether.oms.kraken_venue import KrakenOrderVenue
from aether.oms.new_order import NewOrder
from aether.oms.venue_port import VenueOrder, VenueQuote, VenueTrade, amending
from aether.storage.order_tables import OrderEventRow, OrderOutboxRow, OrderRow
from tests.integration.oms.conftest import Desk


class CancelReplaceOnly:
    """A real Kraken venue (the emulator) that declares no amend capability: every call
    goes to Kraken, but the order service must cancel and replace."""

    def __init__(self, inner: KrakenOrderVenue) -> None:
        self.inner = inner
        self.name = inner.name

    async def submit(self, request: OrderRequest) -> str:
        return await self.inner.submit(request)

    async def cancel(self, cl_ord_id: str) -> bool:
        return await self.inner.cancel(cl_ord_id)

    async def find(self, cl_ord_id: str) -> VenueOrder | None:
        return await self.inner.find(cl_ord_id)

    async def available(self, assets: Iterable[str]) -> Mapping[str, Decimal]:
        return await self.inner.available(assets)

    async def quote(self, symbol: str) -> VenueQuote:
        return await self.inner.quote(symbol)

    async def trades(self, since_ns: int) -> list[VenueTrade]:
        return await self.inner.trades(since_ns)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _limit_buy(price: Decimal, cl_ord_id: str) -> NewOrder:
    return NewOrder(
        "XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), price=price, cl_ord_id=cl_ord_id
    )


async def _events(desk: Desk, cl_ord_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with desk.sessions() as session:
        rows = await session.execute(
            select(OrderEventRow.kind, OrderEventRow.payload)
            .join(OrderRow, OrderRow.id == OrderEventRow.order_id)
            .where(OrderRow.cl_ord_id == cl_ord_id)
            .order_by(OrderEventRow.seq)
        )
        return [(kind, payload) for kind, payload in rows.all()]


async def _written(desk: Desk) -> tuple[int, int, int]:
    async with desk.sessions() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (OrderRow, OrderEventRow, OrderOutboxRow)
        ]
    return (int(counts[0] or 0), int(counts[1] or 0), int(counts[2] or 0))


def _open_at_venue(desk: Desk, cl_ord_id: str) -> dict[str, Any]:
    opened: dict[str, Any] = desk.kraken.ok("OpenOrders", cl_ord_id=cl_ord_id)["open"]
    return opened


async def test_amend_in_place_keeps_the_txid_and_says_amend(desk: Desk) -> None:
    bid = desk.far_bid()
    placed = await desk.service.submit(desk.account, _limit_buy(bid, "amend-1"))
    txid = placed.venue_order_id
    assert txid
    new_price = bid - Decimal("10.0")

    done = await desk.service.amend(
        desk.account, "amend-1", quantity=Decimal("0.002"), price=new_price
    )

    assert done.method is AmendMethod.AMEND
    assert done.replaces is None
    assert (done.order.cl_ord_id, done.order.venue_order_id) == ("amend-1", txid)
    assert (done.order.quantity, done.order.price) == (Decimal("0.002"), new_price)
    at_venue = _open_at_venue(desk, "amend-1")
    assert list(at_venue) == [txid]  # the same order, changed in place
    assert Decimal(at_venue[txid]["vol"]) == Decimal("0.002")
    assert Decimal(at_venue[txid]["descr"]["price"]) == new_price
    events = await _events(desk, "amend-1")
    assert [kind for kind, _ in events][-2:] == ["amend_requested", "amended"]
    assert events[-2][1]["requested"] == {"quantity": "0.002", "price": f"{new_price:f}"}
    assert events[-1][1]["method"] == "amend"
    assert events[-1][1]["quantity"] == "0.002"
    stored = await desk.service.get(desk.account, "amend-1")
    assert (stored.quantity, stored.price, stored.status) == (
        Decimal("0.002"),
        new_price,
        "accepted",
    )


async def test_a_venue_without_amend_cancels_and_replaces_linking_the_two(desk: Desk) -> None:
    bid = desk.far_bid()
    kraken_venue = desk.venues.by_account[desk.account.id]
    assert isinstance(kraken_venue, KrakenOrderVenue)
    plain = CancelReplaceOnly(kraken_venue)
    assert amending(plain) is None
    assert amending(kraken_venue) is kraken_venue
    desk.venues.by_account[desk.account.id] = plain
    old = await desk.service.submit(desk.account, _limit_buy(bid, "replace-1"))
    new_price = bid - Decimal("5.0")

    done = await desk.service.amend(desk.account, "replace-1", price=new_price)

    assert done.method is AmendMethod.CANCEL_REPLACE
    assert done.replaces == "replace-1"
    new = done.order
    assert new.cl_ord_id != "replace-1"
    assert (new.status, new.price, new.quantity) == ("accepted", new_price, Decimal("0.001"))
    assert new.venue_order_id
    assert new.venue_order_id != old.venue_order_id
    assert _open_at_venue(desk, "replace-1") == {}
    closed = desk.kraken.ok("ClosedOrders", cl_ord_id="replace-1")["closed"]
    assert [o["status"] for o in closed.values()] == ["canceled"]
    assert list(_open_at_venue(desk, new.cl_ord_id)) == [new.venue_order_id]

    assert (await desk.service.get(desk.account, "replace-1")).status == "cancelled"
    old_events = await _events(desk, "replace-1")
    assert [kind for kind, _ in old_events][-3:] == ["amend_requested", "cancelled", "amended"]
    assert old_events[-1][1]["method"] == "cancel_replace"
    assert old_events[-1][1]["replaced_by"] == new.cl_ord_id
    new_events = await _events(desk, new.cl_ord_id)
    assert new_events[0][0] == "created"
    assert new_events[0][1]["replaces"] == "replace-1"
    async with desk.sessions() as session:
        outbox = (
            await session.execute(
                select(OrderRow.cl_ord_id, OrderOutboxRow.command, OrderOutboxRow.state)
                .join(OrderRow, OrderRow.id == OrderOutboxRow.order_id)
                .order_by(OrderOutboxRow.id)
            )
        ).all()
    assert [tuple(r) for r in outbox] == [
        ("replace-1", "submit", "done"),
        ("replace-1", "cancel", "done"),
        (new.cl_ord_id, "submit", "done"),
    ]


async def test_refused_amends_write_nothing_and_name_the_field(desk: Desk) -> None:
    bid = desk.far_bid()
    placed = await desk.service.submit(desk.account, _limit_buy(bid, "keep-1"))
    before = await _written(desk)
    cases: list[tuple[dict[str, Decimal], str, str]] = [
        ({}, "amend", "quantity"),
        ({"price": bid + Decimal("0.05")}, "tick_size", "price"),  # off the 0.1 tick
        ({"quantity": Decimal("0.0000000001")}, "lot_size", "quantity"),
        ({"trigger_price": bid}, "trigger_price", "trigger_price"),  # a limit has none
        ({"quantity": Decimal("1")}, "max_order_notional", "quantity"),  # risk, as new
    ]
    for change, rule, field in cases:
        with pytest.raises(OrderRefused) as refused:
            await desk.service.amend(desk.account, "keep-1", **change)
        assert rule in refused.value.rules, (change, refused.value.rules)
        assert refused.value.field == field, change

    desk.account.config = {**desk.account.config, "trading_state": "reducing"}
    with pytest.raises(OrderRefused) as refused:  # more of a buy adds exposure
        await desk.service.amend(desk.account, "keep-1", quantity=Decimal("0.002"))
    assert refused.value.rules == ("trading_state",)
    with pytest.raises(OrderNotFound):
        await desk.service.amend(desk.account, "nobody-1", price=bid)

    assert await _written(desk) == before
    at_venue = _open_at_venue(desk, "keep-1")
    assert Decimal(at_venue[placed.venue_order_id or ""]["vol"]) == Decimal("0.001")

    # Reducing still allows a smaller buy: it takes exposure away.
    done = await desk.service.amend(desk.account, "keep-1", quantity=Decimal("0.0005"))
    assert (done.method, done.order.quantity) == (AmendMethod.AMEND, Decimal("0.0005"))


async def test_a_finished_order_is_not_amended(desk: Desk) -> None:
    await desk.service.submit(desk.account, _limit_buy(desk.far_bid(), "gone-1"))
    await desk.service.cancel(desk.account, "gone-1")
    before = await _written(desk)
    with pytest.raises(OrderNotOpen):
        await desk.service.amend(desk.account, "gone-1", price=desk.far_bid())
    assert await _written(desk) == before


async def test_a_stop_limit_amends_its_trigger_and_limit_in_place(desk: Desk) -> None:
    high = desk.far_bid() * 4  # twice the last price: a buy stop there waits
    stop = NewOrder(
        "XBTUSD",
        Side.BUY,
        OrderType.STOP_LOSS_LIMIT,
        Decimal("0.001"),
        price=high + Decimal("10.0"),
        trigger_price=high,
        cl_ord_id="stop-1",
    )
    placed = await desk.service.submit(desk.account, stop)
    trigger, limit = high - Decimal("20.0"), high - Decimal("10.0")

    done = await desk.service.amend(desk.account, "stop-1", price=limit, trigger_price=trigger)

    assert done.method is AmendMethod.AMEND
    assert (done.order.price, done.order.trigger_price) == (limit, trigger)
    at_venue = _open_at_venue(desk, "stop-1")[placed.venue_order_id or ""]
    # AddOrder's spelling: the trigger is the order's price, the limit its price2.
    assert Decimal(at_venue["descr"]["price"]) == trigger
    assert Decimal(at_venue["descr"]["price2"]) == limit
