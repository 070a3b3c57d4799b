"""Kraken's WebSocket v2 on a running emulator: public channels (the book checked by the
client's own LocalBook), private channels and trading methods, and the error answers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from aether.emulator.ws.book import checksum
from aether.emulator.ws.server import OVERFLOW_CODE, OVERFLOW_REASON, QUEUE_LIMIT, Connection, Hub
from aether.venues.kraken.book import LocalBook
from tests.integration.emulator.conftest import Emulator, Kraken
from tests.support.polling import eventually

Message = dict[str, Any]


#: How long a client waits for a message it expects. Generous: the emulator serves from a
#: thread in the test process, which coverage and a loaded CI machine slow by seconds.
PATIENCE = 15.0


class Client:
    """A v2 client that keeps every message (heartbeats too) and waits for matches."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[Message] = []
        self._req = 0

    async def send(self, method: str, **params: Any) -> int:
        self._req += 1
        body: Message = {"method": method, "req_id": self._req}
        if params:
            body["params"] = params
        await self.ws.send(json.dumps(body, default=float))  # Decimals as JSON numbers
        return self._req

    async def next(self, timeout: float = PATIENCE) -> Message:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        message: Message = json.loads(raw, parse_float=Decimal)
        self.seen.append(message)
        return message

    async def until(self, match: Callable[[Message], bool], timeout: float = PATIENCE) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            message = await self.next(max(0.01, deadline - time.monotonic()))
            if match(message):
                return message

    async def reply(self, req_id: int, timeout: float = PATIENCE) -> Message:
        return await self.until(lambda m: m.get("req_id") == req_id, timeout)

    async def call(self, method: str, **params: Any) -> Message:
        return await self.reply(await self.send(method, **params))

    async def channel(
        self, name: str, kind: str | None = None, timeout: float = PATIENCE
    ) -> Message:
        return await self.until(
            lambda m: m.get("channel") == name and (kind is None or m.get("type") == kind),
            timeout,
        )


@asynccontextmanager
async def v2(emulator: Emulator) -> AsyncIterator[Client]:
    async with connect(emulator.ws_url) as ws:
        yield Client(ws)


def token_of(client: Kraken) -> str:
    token: str = client.ok("GetWebSocketsToken")["token"]
    return token


async def precisions(ws: Client, symbol: str) -> tuple[int, int]:
    ack = await ws.call("subscribe", channel="instrument")
    assert ack["success"] is True
    snap = await ws.channel("instrument", "snapshot")
    (pair,) = [p for p in snap["data"]["pairs"] if p["symbol"] == symbol]
    return pair["price_precision"], pair["qty_precision"]


# --- connection -------------------------------------------------------------------------


async def test_status_heartbeat_and_ping(emulator: Emulator) -> None:
    async with v2(emulator) as ws:
        status = await ws.next()
        assert status["channel"] == "status"
        assert status["data"][0]["system"] == "online"
        assert status["data"][0]["api_version"] == "v2"
        await ws.channel("heartbeat")
        pong = await ws.call("ping")
        assert pong["method"] == "pong"
        assert {"time_in", "time_out"} <= pong.keys()


async def test_errors_keep_the_connection_usable(emulator: Emulator) -> None:
    async with v2(emulator) as ws:
        await ws.ws.send("{not json")
        bad = await ws.until(lambda m: "success" in m)
        assert bad["success"] is False
        assert "error" in bad
        unknown = await ws.call("subscribe", channel="nope", symbol=["BTC/USD"])
        assert unknown["success"] is False
        assert unknown["error"]
        pair = await ws.call("subscribe", channel="ticker", symbol=["XBT/USD"])
        assert pair == {**pair, "success": False, "symbol": "XBT/USD"}
        assert pair["error"] == "Currency pair not supported XBT/USD"
        method = await ws.call("frobnicate")
        assert method["success"] is False
        assert method["method"] == "frobnicate"
        depth = await ws.call("subscribe", channel="book", symbol=["BTC/USD"], depth=7)
        assert depth["success"] is False
        again = await ws.call("unsubscribe", channel="trade", symbol=["BTC/USD"])
        assert again["error"] == "Subscription Not Found"
        assert (await ws.call("ping"))["method"] == "pong"


# --- public channels --------------------------------------------------------------------


async def test_book_checksums_match_the_clients_local_book(synthetic: Emulator) -> None:
    async with v2(synthetic) as ws:
        pp, qp = await precisions(ws, "BTC/USD")
        ack = await ws.call("subscribe", channel="book", symbol=["BTC/USD"], depth=10)
        assert ack["result"] == {
            "channel": "book",
            "snapshot": True,
            "symbol": "BTC/USD",
            "depth": 10,
        }
        snap = await ws.channel("book", "snapshot")
        (data,) = snap["data"]
        book = LocalBook(pp, qp, 10)
        book.apply_snapshot(data["bids"], data["asks"])
        assert len(book.bids()) == 10
        assert len(book.asks()) == 10
        assert book.bids()[0][0] < book.asks()[0][0]
        assert book.verify(data["checksum"]), book.checksum_text()
        updates = 0
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            message = await ws.channel("book", "update")
            (data,) = message["data"]
            assert data["symbol"] == "BTC/USD"
            assert "timestamp" in data
            book.apply_update(data["bids"], data["asks"])
            assert book.verify(data["checksum"]), book.checksum_text()
            updates += 1
        assert updates > 5
        assert len(book.bids()) == 10
        assert book.bids()[0][0] < book.asks()[0][0]


async def test_book_depth_25_tracks_the_rest_depth(emulator: Emulator) -> None:
    async with v2(emulator) as ws:
        pp, qp = await precisions(ws, "ETH/USD")
        await ws.call("subscribe", channel="book", symbol=["ETH/USD"], depth=25)
        (data,) = (await ws.channel("book", "snapshot"))["data"]
        book = LocalBook(pp, qp, 25)
        book.apply_snapshot(data["bids"], data["asks"])
        assert book.verify(data["checksum"])
        for _ in range(5):
            (data,) = (await ws.channel("book", "update"))["data"]
            book.apply_update(data["bids"], data["asks"])
            assert book.verify(data["checksum"])
        assert len(book.asks()) >= 10


async def test_ticker_and_trades_move(synthetic: Emulator) -> None:
    async with v2(synthetic) as ws:
        ack = await ws.call("subscribe", channel="ticker", symbol=["BTC/USD"])
        assert ack["result"]["event_trigger"] == "trades"
        snap = await ws.channel("ticker", "snapshot")
        first = snap["data"][0]
        assert first["bid"] < first["ask"]
        assert first["last"] > 0
        await ws.call("subscribe", channel="trade", symbol=["BTC/USD"])
        trades = await ws.channel("trade", "snapshot")
        assert 0 < len(trades["data"]) <= 50
        seen_ids = {t["trade_id"] for t in trades["data"]}
        update = await ws.channel("trade", "update")
        trade = update["data"][0]
        assert trade["symbol"] == "BTC/USD"
        assert trade["side"] in ("buy", "sell")
        assert trade["trade_id"] not in seen_ids
        assert trade["trade_id"] > max(seen_ids)
        assert trade["timestamp"].endswith("Z")
        lasts = set()
        for _ in range(20):
            tick = await ws.channel("ticker", "update")
            lasts.add(tick["data"][0]["last"])
        assert len(lasts) > 1


async def test_ohlc_snapshot_and_update(emulator: Emulator) -> None:
    async with v2(emulator) as ws:
        ack = await ws.call("subscribe", channel="ohlc", symbol=["BTC/USD"], interval=1)
        assert ack["result"]["interval"] == 1
        snap = await ws.channel("ohlc", "snapshot")
        candle = snap["data"][-1]
        assert candle["low"] <= candle["open"] <= candle["high"]
        assert candle["interval"] == 1
        assert candle["interval_begin"].endswith(":00.000000Z")
        update = await ws.channel("ohlc", "update")
        assert update["data"][-1]["symbol"] == "BTC/USD"
        bad = await ws.call("subscribe", channel="ohlc", symbol=["BTC/USD"], interval=2)
        assert bad["success"] is False


async def test_instrument_snapshot(emulator: Emulator) -> None:
    async with v2(emulator) as ws:
        await ws.call("subscribe", channel="instrument")
        snap = await ws.channel("instrument", "snapshot")
        pairs = {p["symbol"]: p for p in snap["data"]["pairs"]}
        btc = pairs["BTC/USD"]
        assert btc["base"] == "BTC"
        assert btc["price_precision"] == 1
        assert btc["price_increment"] == Decimal("0.1")
        assert btc["qty_precision"] == 8
        assert btc["qty_min"] > 0
        assert "BTC" in {a["id"] for a in snap["data"]["assets"]}


async def test_unsubscribe_stops_updates(emulator: Emulator) -> None:
    async with v2(emulator) as ws:
        await ws.call("subscribe", channel="trade", symbol=["BTC/USD"])
        await ws.channel("trade", "update")
        ack = await ws.call("unsubscribe", channel="trade", symbol=["BTC/USD"])
        assert ack["success"] is True
        assert ack["result"] == {"channel": "trade", "symbol": "BTC/USD"}
        index = len(ws.seen)
        await ws.channel("heartbeat")
        await asyncio.sleep(1.0)
        await ws.call("ping")
        assert not [m for m in ws.seen[index:] if m.get("channel") == "trade"]


def test_checksum_matches_the_v2_guide_rules() -> None:
    asks = [(Decimal("0.05005"), Decimal("0.00000500")), (Decimal("0.05010"), Decimal("2"))]
    bids = [(Decimal("0.05000"), Decimal("1.5"))]
    local = LocalBook(5, 8, 10)
    local.apply_snapshot(
        [{"price": p, "qty": q} for p, q in bids], [{"price": p, "qty": q} for p, q in asks]
    )
    assert checksum(asks, bids, 5, 8) == local.checksum()


async def test_a_full_queue_marks_the_connection_for_closing() -> None:
    conn = Connection(1, limit=2)
    conn.send({"a": 1})
    conn.send({"a": 2})
    assert not conn.overflowed.is_set()
    conn.send({"a": 3})
    assert conn.overflowed.is_set()
    assert conn.queue.qsize() == 2


# --- private channels and trading -------------------------------------------------------


def far_bid(emulator: Emulator) -> Decimal:
    book = emulator.public("Depth", pair="XBTUSD", count=1)["result"]["XXBTZUSD"]
    return (Decimal(book["bids"][0][0]) * Decimal("0.5")).quantize(Decimal("0.1"))


async def test_invalid_token_is_refused(emulator: Emulator) -> None:
    async with v2(emulator) as ws:
        sub = await ws.call("subscribe", channel="executions", token="nope")
        assert sub["success"] is False
        assert sub["error"] == "ESession:Invalid session"
        order = await ws.call(
            "add_order", order_type="limit", side="buy", order_qty=0.01, limit_price=10,
            symbol="BTC/USD", token="nope",
        )  # fmt: skip
        assert order["success"] is False
        assert (await ws.call("ping"))["method"] == "pong"


async def test_add_and_cancel_order_over_the_socket(emulator: Emulator) -> None:
    client = emulator.account(USD="10000")
    token = token_of(client)
    price = far_bid(emulator)
    async with v2(emulator) as ws:
        ack = await ws.call("subscribe", channel="executions", token=token, snap_trades=True)
        assert ack["success"] is True
        snap = await ws.channel("executions", "snapshot")
        assert snap["data"] == []
        await ws.call("subscribe", channel="balances", token=token)
        balances = await ws.channel("balances", "snapshot")
        usd = {b["asset"]: b for b in balances["data"]}["USD"]
        assert usd["balance"] == Decimal("10000")
        placed = await ws.call(
            "add_order", order_type="limit", side="buy", order_qty=Decimal("0.01"),
            limit_price=price, symbol="BTC/USD", token=token, cl_ord_id="ws-1",
        )  # fmt: skip
        assert placed["success"] is True, placed
        order_id = placed["result"]["order_id"]
        assert placed["result"]["cl_ord_id"] == "ws-1"
        new = await ws.until(
            lambda m: (
                m.get("channel") == "executions" and any(e["exec_type"] == "new" for e in m["data"])
            )
        )
        entry = next(e for e in new["data"] if e["exec_type"] == "new")
        assert entry["order_id"] == order_id
        assert entry["symbol"] == "BTC/USD"
        assert entry["limit_price"] == price
        assert entry["order_status"] == "new"
        assert order_id in client.ok("OpenOrders")["open"]
        cancel = await ws.call("cancel_order", order_id=[order_id], token=token)
        assert cancel["success"] is True
        assert cancel["result"] == {"order_id": order_id}
        gone = await ws.until(
            lambda m: (
                m.get("channel") == "executions"
                and any(e["exec_type"] == "canceled" for e in m["data"])
            )
        )
        assert gone["data"][-1]["order_status"] == "canceled"
        again = await ws.call("cancel_order", order_id=[order_id], token=token)
        assert again["success"] is False
        assert again["error"] == "EOrder:Unknown order"


async def test_marketable_order_fills_and_moves_balances(emulator: Emulator) -> None:
    client = emulator.account(USD="100000")
    token = token_of(client)
    async with v2(emulator) as ws:
        await ws.call("subscribe", channel="executions", token=token)
        await ws.channel("executions", "snapshot")
        await ws.call("subscribe", channel="balances", token=token)
        await ws.channel("balances", "snapshot")
        placed = await ws.call(
            "add_order", order_type="market", side="buy", order_qty=Decimal("0.01"),
            symbol="BTC/USD", token=token,
        )  # fmt: skip
        assert placed["success"] is True, placed
        order_id = placed["result"]["order_id"]
        fill = await ws.until(
            lambda m: (
                m.get("channel") == "executions"
                and any(e["exec_type"] == "trade" for e in m["data"])
            )
        )
        trade = next(e for e in fill["data"] if e["exec_type"] == "trade")
        assert trade["order_id"] == order_id
        assert trade["last_qty"] == Decimal("0.01")
        assert trade["liquidity_ind"] == "t"
        assert trade["fees"][0]["asset"] == "USD"
        assert trade["fees"][0]["qty"] > 0
        update = await ws.channel("balances", "update")
        moved = {b["asset"]: b for b in update["data"]}
        assert moved["BTC"]["balance"] == Decimal("0.01")
        assert moved["USD"]["amount"] < 0


async def test_batch_add_cancel_all_and_dead_mans_switch(emulator: Emulator) -> None:
    client = emulator.account(USD="10000")
    token = token_of(client)
    price = far_bid(emulator)
    async with v2(emulator) as ws:
        orders = [
            {"order_type": "limit", "side": "buy", "order_qty": Decimal("0.01"),
             "limit_price": price - i}
            for i in range(3)
        ]  # fmt: skip
        batch = await ws.call("batch_add", symbol="BTC/USD", orders=orders, token=token)
        assert batch["success"] is True, batch
        assert len(batch["result"]) == 3
        assert len(client.ok("OpenOrders")["open"]) == 3
        refused = await ws.call(
            "batch_add", symbol="BTC/USD", token=token,
            orders=[*orders[:1], {**orders[0], "order_qty": Decimal("1000")}],
        )  # fmt: skip
        assert refused["success"] is False
        assert len(client.ok("OpenOrders")["open"]) == 3
        cancelled = await ws.call("cancel_all", token=token)
        assert cancelled["result"] == {"count": 3}
        assert client.ok("OpenOrders") == {"open": {}}
        await ws.call(
            "add_order", order_type="limit", side="buy", order_qty=Decimal("0.01"),
            limit_price=price, symbol="BTC/USD", token=token,
        )  # fmt: skip
        armed = await ws.call("cancel_all_orders_after", timeout=1, token=token)
        assert armed["success"] is True
        assert armed["result"]["triggerTime"] > armed["result"]["currentTime"]
        # The dead man's switch fires: no open order left.
        await eventually(lambda: not client.ok("OpenOrders")["open"], within=15, every=0.2)
        off = await ws.call("cancel_all_orders_after", timeout=0, token=token)
        assert off["result"]["triggerTime"] == "0"


async def test_edit_order_is_not_supported(emulator: Emulator) -> None:
    client = emulator.account(USD="10")
    async with v2(emulator) as ws:
        answer = await ws.call("edit_order", order_id="OAAAAA-BBBBB-CCCCCC", token=token_of(client))
        assert answer["success"] is False
        # Said as such, not answered as an unknown method.
        assert "edit_order is not supported by the emulator" in answer["error"]


async def test_amend_order_keeps_the_order_id(emulator: Emulator) -> None:
    client = emulator.account(USD="10000")
    token = token_of(client)
    price = far_bid(emulator)
    async with v2(emulator) as ws:
        placed = await ws.call(
            "add_order", order_type="limit", side="buy", order_qty=Decimal("0.01"),
            limit_price=price, symbol="BTC/USD", token=token, cl_ord_id="amend-me",
        )  # fmt: skip
        order_id = placed["result"]["order_id"]
        amended = await ws.call(
            "amend_order", order_id=order_id, order_qty=Decimal("0.02"),
            limit_price=price - 1, token=token,
        )  # fmt: skip
        assert amended["success"] is True, amended
        assert amended["result"]["order_id"] == order_id
        assert amended["result"]["cl_ord_id"] == "amend-me"
        assert amended["result"]["amend_id"]
        info = client.ok("QueryOrders", txid=order_id)[order_id]
        assert info["vol"] == "0.02000000"
        unknown = await ws.call(
            "amend_order", order_id="OAAAAA-BBBBB-CCCCCC", order_qty=Decimal("0.02"), token=token
        )
        assert unknown["error"] == "EOrder:Unknown order"


@pytest.fixture
def tiny_queues(emulator: Emulator) -> Iterator[Emulator]:
    """The module's server, its new WebSocket connections' queues holding 3 messages (not a
    server of its own: a third market ticking in this process slows every other test)."""
    assert emulator.runtime is not None
    hub = emulator.runtime.tick_listeners[0].__self__  # type: ignore[attr-defined]
    assert isinstance(hub, Hub)
    hub.queue_limit = 3
    try:
        yield emulator
    finally:
        hub.queue_limit = QUEUE_LIMIT


async def test_a_slow_consumer_is_disconnected_with_a_reason(tiny_queues: Emulator) -> None:
    async with v2(tiny_queues) as ws:
        await ws.send("subscribe", channel="book", symbol=["BTC/USD", "ETH/USD"], depth=1000)
        with pytest.raises(ConnectionClosed):
            await ws.until(lambda m: False)
        assert ws.ws.close_code == OVERFLOW_CODE
        assert ws.ws.close_reason == OVERFLOW_REASON
