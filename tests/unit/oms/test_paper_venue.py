"""The paper venue over a real SimBroker: acceptance, refusals, fills by trades and books,
cancels, ids that survive a restart, restore, fee tiers and the per-account venue choice.

Fees by hand: XBTUSD taker 0.40 %, maker 0.25 % below 10,000 USD of 30-day volume,
0.35 % / 0.20 % from it.
"""

from __future__ import annotations

import uuid
from decimal import Decimal as D
from typing import Any

import pytest

from aether.domain.events import BookLevel, BookSnapshot, Tick
from aether.domain.instruments import FeeSchedule, FeeTier
from aether.domain.orders import Order, OrderRequest, OrderType, Side, TimeInForce
from aether.oms.errors import NoVenue, VenueUnavailable
from aether.oms.paper_venue import PaperEnding, PaperOrderVenue, PaperVenues, RestingOrder
from aether.oms.venue_port import ReconcilableVenue, VenueOrderState, VenueRefused
from aether.storage.tables import AccountRow
from tests.unit.domain.conftest import make_instrument

TIERS = FeeSchedule(
    (FeeTier(D(0), D("0.0025"), D("0.0040")), FeeTier(D(10000), D("0.0020"), D("0.0035")))
)
XBT = make_instrument(fees=TIERS)
ACCOUNT = uuid.UUID("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
OTHER = uuid.UUID("99999999-4b5a-4978-8695-a4b3c2d1e0f9")
T0 = 1_700_000_000_000_000_000


def venue(
    usd: str = "100000", xbt: str = "0", account: uuid.UUID = ACCOUNT, **kw: Any
) -> PaperOrderVenue:
    return PaperOrderVenue(
        account, {"XBTUSD": XBT}, {"USD": D(usd), "XBT": D(xbt)}, clock=lambda: T0, **kw
    )


def request(
    cl: str, side: Side = Side.BUY, kind: OrderType = OrderType.MARKET, qty: str = "0.1", **kw: Any
) -> OrderRequest:
    return Order.create(XBT, cl_ord_id=cl, side=side, type=kind, quantity=qty, **kw).request


def trade(price: str, qty: str = "1", at: int = 1) -> Tick:
    return Tick("XBTUSD", D(price), D(qty), T0 + at)


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]], at: int = 1) -> BookSnapshot:
    return BookSnapshot(
        "XBTUSD",
        tuple(BookLevel(D(p), D(q)) for p, q in bids),
        tuple(BookLevel(D(p), D(q)) for p, q in asks),
        T0 + at,
    )


async def test_accepts_an_order_under_a_deterministic_venue_id_and_holds_its_cost() -> None:
    paper = venue()
    assert isinstance(paper, ReconcilableVenue)
    vid = await paper.submit(request("a-1", kind=OrderType.LIMIT, price="50000"))
    assert vid == "paper-0f1e2d3c4b5a-a-1"
    assert await paper.submit(request("a-1", kind=OrderType.LIMIT, price="50000")) == vid
    found = await paper.find("a-1")
    assert found is not None
    assert found.state is VenueOrderState.OPEN
    # 0.1 x 50,000 = 5,000 plus the 0.40 % taker fee (20) is held.
    assert await paper.available(["USD", "XBT"]) == {"USD": D("94980.000"), "XBT": D(0)}
    (held,) = await paper.open_orders()
    assert (held.venue_order_id, held.cl_ord_id, held.price) == (vid, "a-1", D("50000"))
    assert (await paper.balances())["USD"].held == D("5020.000")
    assert await paper.query([vid, "paper-0f1e2d3c4b5a-nope", "kraken-1"]) == {vid: found}


async def test_refuses_what_the_balance_cannot_pay_for() -> None:
    paper = venue(usd="100")
    with pytest.raises(VenueRefused) as refused:
        await paper.submit(request("poor", kind=OrderType.LIMIT, price="50000"))
    assert refused.value.reason == "insufficient funds"
    assert await paper.find("poor") is None
    with pytest.raises(VenueRefused, match="insufficient funds"):
        await paper.submit(request("nothing", side=Side.SELL))


async def test_a_market_order_fills_on_the_next_trade_at_its_price_as_taker() -> None:
    paper = venue()
    vid = await paper.submit(request("m-1", qty="0.1"))
    assert paper.on_market(trade("60000", at=5)) != []
    (fill,) = await paper.trades(0)
    assert fill.trade_id == f"{vid}-1"
    assert (fill.venue_order_id, fill.side, fill.price, fill.quantity) == (
        vid,
        "buy",
        D("60000"),
        D("0.1"),
    )
    assert (fill.fee, fill.maker, fill.ts_ns) == (D("24.00000000"), False, T0 + 5)
    found = await paper.find("m-1")
    assert found is not None
    assert (found.state, found.filled_quantity) == (
        VenueOrderState.FILLED,
        D("0.1"),
    )
    assert paper.broker.balances["USD"] == D("93976.00000000")
    assert paper.on_market(trade("60000", at=6)) == []  # nothing left to fill


async def test_a_market_order_walks_the_book_one_fill_per_level() -> None:
    paper = venue()
    vid = await paper.submit(request("m-2", qty="0.3"))
    fills = paper.on_market(book([("59990", "1")], [("60000", "0.1"), ("60010", "1")]))
    assert [(f.trade_id, f.price, f.quantity) for f in fills] == [
        (f"{vid}-1", D("60000"), D("0.1")),
        (f"{vid}-2", D("60010"), D("0.2")),
    ]
    quote = await paper.quote("XBTUSD")
    assert (quote.bid, quote.ask) == (D("59990"), D("60000"))


async def test_a_resting_limit_fills_at_its_price_as_maker_up_to_the_printed_size() -> None:
    paper = venue()
    vid = await paper.submit(request("l-1", kind=OrderType.LIMIT, qty="0.3", price="50000"))
    assert paper.on_market(trade("50000.1", "5", at=1)) == []
    first = paper.on_market(trade("49990", "0.1", at=2))
    second = paper.on_market(trade("49980", "5", at=3))
    assert [(f.trade_id, f.price, f.quantity, f.maker) for f in first + second] == [
        (f"{vid}-1", D("50000"), D("0.1"), True),
        (f"{vid}-2", D("50000"), D("0.2"), True),
    ]
    assert first[0].fee == D("12.50000000")  # 5,000 x 0.25 %
    assert await paper.open_orders() == []


async def test_cancel_answers_the_caller_and_an_ending_is_reported_once() -> None:
    paper = venue()
    await paper.submit(request("c-1", kind=OrderType.LIMIT, price="50000"))
    assert await paper.cancel("c-1") is True
    assert await paper.cancel("c-1") is False
    assert await paper.cancel("never") is False
    found = await paper.find("c-1")
    assert found is not None
    assert found.state is VenueOrderState.CANCELLED
    assert paper.endings() == []  # the requested cancel is the caller's to record
    # An IOC limit the book does not reach ends on its own: reported once.
    vid = await paper.submit(
        request("ioc", kind=OrderType.LIMIT, price="50000", time_in_force=TimeInForce.IOC)
    )
    paper.on_market(book([("59990", "1")], [("60000", "1")]))
    assert paper.endings() == [PaperEnding("ioc", vid, VenueOrderState.EXPIRED, "expired")]
    assert paper.endings() == []


async def test_a_quote_needs_market_data_of_that_pair() -> None:
    paper = venue()
    with pytest.raises(VenueUnavailable) as unavailable:
        await paper.quote("XBTUSD")
    assert "XBTUSD" in unavailable.value.message
    assert unavailable.value.field == "symbol"
    paper.on_market(trade("61000"))
    quote = await paper.quote("XBTUSD")
    assert (quote.bid, quote.ask, quote.last) == (D("61000"), D("61000"), D("61000"))


async def test_restore_resumes_an_open_order_with_unique_trade_ids() -> None:
    before = venue()
    vid = await before.submit(request("r-1", kind=OrderType.LIMIT, qty="0.3", price="50000"))
    (first,) = before.on_market(trade("49990", "0.1"))
    # A restart: a new venue, rebuilt from what the database holds.
    after = venue(usd="94987.5", xbt="0.1")
    assert await after.find("r-1") is None
    original = request("r-1", kind=OrderType.LIMIT, qty="0.3", price="50000")
    assert after.restore([RestingOrder(original, D("0.1"), 1)]) == 1
    assert after.restore([RestingOrder(original, D("0.1"), 1)]) == 0  # placed once
    assert after.endings() == []
    assert await after.trades(0) == []
    found = await after.find("r-1")
    assert found is not None
    assert (found.venue_order_id, found.filled_quantity) == (vid, D("0.1"))
    (held,) = await after.open_orders()
    assert (held.quantity, held.filled_quantity) == (D("0.3"), D("0.1"))
    # It had rested: a book that crosses it fills it at its price, as the maker.
    (second,) = after.on_market(book([("49900", "1")], [("49950", "5")]))
    assert (second.price, second.quantity, second.maker) == (D("50000"), D("0.2"), True)
    assert (first.trade_id, second.trade_id) == (f"{vid}-1", f"{vid}-2")


async def test_restore_ends_an_order_the_balances_no_longer_cover() -> None:
    paper = venue(usd="10")
    original = request("r-2", kind=OrderType.LIMIT, qty="0.3", price="50000")
    assert paper.restore([RestingOrder(original, D(0), 0)]) == 0
    (ending,) = paper.endings()
    assert (ending.cl_ord_id, ending.state, ending.reason) == (
        "r-2",
        VenueOrderState.CANCELLED,
        "insufficient funds",
    )


async def test_trade_ids_differ_between_accounts_with_the_same_cl_ord_id() -> None:
    ours, theirs = venue(), venue(account=OTHER)
    for paper in (ours, theirs):
        await paper.submit(request("same"))
    ids = {f.trade_id for paper in (ours, theirs) for f in paper.on_market(trade("60000"))}
    assert len(ids) == 2
    assert all(len(i) <= 64 for i in ids)  # fills.venue_trade_id is VARCHAR(64)


async def test_fees_follow_the_tier_of_the_seeded_30_day_volume() -> None:
    paper = venue(volume_history=[(T0 - 86_400 * 10**9, D("12000"))])
    await paper.submit(request("f-1"))
    (fill,) = paper.on_market(trade("60000"))
    assert fill.fee == D("21.00000000")  # 6,000 x 0.35 %
    old = venue(volume_history=[(T0 - 31 * 86_400 * 10**9, D("12000"))])
    await old.submit(request("f-2"))
    (fill,) = old.on_market(trade("60000"))
    assert fill.fee == D("24.00000000")  # aged out: 0.40 %


async def test_paper_venues_serve_only_the_paper_accounts_they_hold() -> None:
    venues = PaperVenues()
    paper = venue()
    venues.add(paper)
    held = AccountRow(id=ACCOUNT, name="alice", mode="paper")
    assert await venues.venue_for(held) is paper
    with pytest.raises(NoVenue, match="alice"):
        await venues.venue_for(AccountRow(id=ACCOUNT, name="alice", mode="live"))
    with pytest.raises(NoVenue, match=str(OTHER)):
        await venues.venue_for(AccountRow(id=OTHER, name="bob", mode="paper"))
    assert venues.remove(ACCOUNT) is paper
    with pytest.raises(NoVenue):
        await venues.venue_for(held)
