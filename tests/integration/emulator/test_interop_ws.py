"""python-kraken-sdk's WebSocket v2 client against the emulator, unmodified: only its URLs
are changed.

- ``SpotWSClient(rest_url=..., ws_url=..., auth_ws_url=...)`` appends ``/v2`` to the
  WebSocket URLs itself (``WS_URL += API_V``), so they are the emulator's root
  (``ws://127.0.0.1:PORT``); its REST calls (``GetWebSocketsToken`` for the private
  connection) join ``/0/private/...`` onto ``rest_url``, dropping any path there.
- It parses every message with ``json.loads`` (prices and quantities arrive as floats)
  and hands it to the callback; the tests read only what the callback received.
- Its ``SpotOrderBookClient`` (the SDK's own book with checksums) cannot be used here: its
  constructor takes no URLs and it looks each pair's decimals up through an internal
  ``Market()`` fixed to https://api.kraken.com. The book is kept instead by
  :class:`aether.venues.kraken.book.LocalBook` (Kraken's v2 checksum guide), fed from the
  SDK's messages, with the precisions the SDK received on the ``instrument`` channel.
- Its nonces are ``time * 1e8``, so each SDK client gets its own account, and REST calls
  with the test's own (smaller) nonces happen before the SDK uses the key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import ROUND_DOWN, Decimal
from typing import Any

from kraken.spot import SpotWSClient

from aether.venues.kraken.book import LocalBook
from tests.integration.emulator.conftest import Emulator

Message = dict[str, Any]

SYMBOL = "BTC/USD"
DEPTH = 10
BOOK_SECONDS = 5.0
MIN_UPDATES = 20  # the synthetic market at 600x moves the book ~15 times a second
VOLUME = "0.001"


class Inbox:
    """The SDK's callback: every message it delivers, waited on in order."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue()

    async def __call__(self, message: Message) -> None:
        await self.queue.put(message)

    async def next(self, timeout: float) -> Message:
        return await asyncio.wait_for(self.queue.get(), max(0.01, timeout))

    async def until(self, match: Callable[[Message], bool], timeout: float = 15.0) -> Message:
        deadline = time.monotonic() + timeout
        while True:
            message = await self.next(deadline - time.monotonic())
            assert "python-kraken-sdk" not in message, message  # the SDK's own error report
            if match(message):
                return message


@asynccontextmanager
async def sdk_client(
    emulator: Emulator, key: str = "", secret: str = ""
) -> AsyncIterator[tuple[SpotWSClient, Inbox]]:
    """A started ``SpotWSClient`` on the emulator: public, or private only with a key."""
    inbox = Inbox()
    root = emulator.url.replace("http://", "ws://")
    client = SpotWSClient(
        key=key,
        secret=secret,
        callback=inbox,
        no_public=bool(key),
        rest_url=emulator.url,
        ws_url=root,
        auth_ws_url=root,
    )
    await client.start()
    try:
        yield client, inbox
        assert not client.exception_occur
    finally:
        await client.close()


def decimal(value: Any) -> Decimal:
    """A JSON number as the SDK parsed it (a float, or an int) back to its Decimal text."""
    assert isinstance(value, int | float), value
    assert not isinstance(value, bool), value
    return Decimal(repr(value))


def levels(side: list[Message]) -> list[dict[str, Decimal]]:
    return [{"price": decimal(lv["price"]), "qty": decimal(lv["qty"])} for lv in side]


def far_below(bid: str) -> str:
    price = Decimal(bid) / 5
    return str(price.quantize(Decimal("0.1"), rounding=ROUND_DOWN))


def is_reply(method: str, req_id: int | None = None) -> Callable[[Message], bool]:
    return lambda m: m.get("method") == method and (req_id is None or m.get("req_id") == req_id)


def is_channel(channel: str, kind: str | None = None) -> Callable[[Message], bool]:
    return lambda m: m.get("channel") == channel and (kind is None or m.get("type") == kind)


# --- public: the book -----------------------------------------------------------------------


async def test_sdk_book_checksum_matches_every_update(synthetic: Emulator) -> None:
    async with sdk_client(synthetic) as (client, inbox):
        await client.subscribe(params={"channel": "instrument"})
        instruments = await inbox.until(is_channel("instrument", "snapshot"))
        (pair,) = [p for p in instruments["data"]["pairs"] if p["symbol"] == SYMBOL]
        book = LocalBook(pair["price_precision"], pair["qty_precision"], DEPTH)

        await client.subscribe(params={"channel": "book", "symbol": [SYMBOL], "depth": DEPTH})
        ack = await inbox.until(is_reply("subscribe"))
        assert ack["success"] is True, ack
        assert ack["result"] == {
            "channel": "book",
            "symbol": SYMBOL,
            "depth": DEPTH,
            "snapshot": True,
        }
        snapshot = await inbox.until(is_channel("book"))
        assert snapshot["type"] == "snapshot"
        (data,) = snapshot["data"]
        assert data["symbol"] == SYMBOL
        assert 0 < len(data["bids"]) <= DEPTH
        assert 0 < len(data["asks"]) <= DEPTH
        book.apply_snapshot(levels(data["bids"]), levels(data["asks"]))
        assert book.verify(data["checksum"]), book.checksum_text()

        updates = 0
        deadline = time.monotonic() + BOOK_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = await inbox.next(left)
            except TimeoutError:
                break
            assert "python-kraken-sdk" not in message, message
            if message.get("channel") != "book":
                assert message.get("channel") == "heartbeat", message
                continue
            assert message["type"] == "update", message
            (data,) = message["data"]
            assert data["symbol"] == SYMBOL
            assert data["timestamp"].endswith("Z")
            book.apply_update(levels(data["bids"]), levels(data["asks"]))
            updates += 1
            assert book.verify(data["checksum"]), (updates, book.checksum_text(), message)
            (best_bid, _), (best_ask, _) = book.bids()[0], book.asks()[0]
            assert best_bid < best_ask
            assert len(book.bids()) <= DEPTH
            assert len(book.asks()) <= DEPTH

        assert updates >= MIN_UPDATES
        # The SDK keeps the acknowledged subscription, to resubscribe with after a reconnect.
        assert {"channel": "book", "symbol": [SYMBOL], "depth": DEPTH, "snapshot": True} in (
            client.active_public_subscriptions
        )


# --- private: executions, balances and trading ------------------------------------------------


async def test_sdk_private_channels_and_trading(synthetic: Emulator) -> None:
    account = synthetic.account(USD="10000")
    (bid,) = synthetic.public("Ticker", pair="XBTUSD")["result"]["XXBTZUSD"]["b"][:1]
    price = far_below(bid)
    # Placed over REST before the SDK uses the key (its nonces are far larger).
    (resting,) = account.ok(
        "AddOrder", pair="XBTUSD", type="buy", ordertype="limit", volume=VOLUME, price=price
    )["txid"]

    async with sdk_client(synthetic, account.key, account.secret) as (client, inbox):
        await client.subscribe(params={"channel": "executions", "snap_orders": True})
        ack = await inbox.until(is_reply("subscribe"))
        assert ack["success"] is True, ack
        assert ack["result"]["channel"] == "executions"
        snapshot = await inbox.until(is_channel("executions", "snapshot"))
        (order,) = snapshot["data"]
        assert order["order_id"] == resting
        assert (order["symbol"], order["side"], order["order_type"]) == (SYMBOL, "buy", "limit")
        assert order["order_status"] == "new"
        assert decimal(order["limit_price"]) == Decimal(price)
        assert decimal(order["order_qty"]) == Decimal(VOLUME)

        await client.subscribe(params={"channel": "balances"})
        assert (await inbox.until(is_reply("subscribe")))["success"] is True
        balances = await inbox.until(is_channel("balances", "snapshot"))
        usd = {b["asset"]: b for b in balances["data"]}["USD"]
        assert decimal(usd["balance"]) == Decimal("10000")

        # A trading method: the SDK adds the token itself.
        await client.send_message(
            {
                "method": "add_order",
                "req_id": 7,
                "params": {
                    "order_type": "limit",
                    "side": "buy",
                    "symbol": SYMBOL,
                    "order_qty": float(VOLUME),
                    "limit_price": float(price),
                },
            }
        )
        added = await inbox.until(is_reply("add_order", 7))
        assert added["success"] is True, added
        placed = added["result"]["order_id"]
        new = await inbox.until(
            lambda m: (
                is_channel("executions", "update")(m)
                and any(e["order_id"] == placed and e["exec_type"] == "new" for e in m["data"])
            )
        )
        assert new["sequence"] > snapshot["sequence"]

        await client.send_message(
            {"method": "cancel_order", "req_id": 8, "params": {"order_id": [resting, placed]}}
        )
        answers = [await inbox.until(is_reply("cancel_order", 8)) for _ in range(2)]
        assert all(a["success"] is True for a in answers), answers
        assert {a["result"]["order_id"] for a in answers} == {resting, placed}
        canceled: set[str] = set()
        while canceled != {resting, placed}:
            update = await inbox.until(is_channel("executions", "update"))
            canceled |= {e["order_id"] for e in update["data"] if e["exec_type"] == "canceled"}

        # Kraken's error envelope for a bad request reaches the callback too.
        await client.send_message(
            {"method": "cancel_order", "req_id": 9, "params": {"order_id": ["OAAAAA-BBBBB-CCCCCC"]}}
        )
        refused = await inbox.until(is_reply("cancel_order", 9))
        assert refused["success"] is False
        assert refused["error"]
