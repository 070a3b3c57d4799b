"""Aether's Kraken REST client against the emulator: every endpoint, the error paths, and
an AddOrder whose response is lost on the way back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from aether.venues.kraken.errors import (
    InsufficientFundsError,
    InvalidKeyError,
    UnknownAssetPairError,
)
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rest import Credentials, KrakenRest
from tests.integration.emulator.conftest import Emulator

T = TypeVar("T")


def run(make: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(make())  # type: ignore[arg-type]


class LoseFirstAddOrderAnswer(httpx.AsyncBaseTransport):
    """Delivers every request, but loses the answer to the first AddOrder (a timeout)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/AddOrder") and not self.lost:
            self.lost += 1
            await response.aread()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def client(
    emulator: Emulator, tmp_path: Path, http: httpx.AsyncClient | None = None, **balances: str
) -> KrakenRest:
    response = httpx.post(f"{emulator.url}/emulator/accounts", json={"balances": balances})
    creds = response.json()
    return KrakenRest(
        emulator.url,
        credentials=Credentials(creds["api_key"], creds["api_secret"]),
        nonces=NonceStore(tmp_path / f"nonce-{creds['api_key'][:8]}"),
        client=http,
    )


def test_public_endpoints(emulator: Emulator, tmp_path: Path) -> None:
    async def calls() -> dict[str, Any]:
        async with client(emulator, tmp_path) as rest:
            return {
                "time": await rest.public("Time"),
                "status": await rest.public("SystemStatus"),
                "assets": await rest.public("Assets"),
                "pairs": await rest.public("AssetPairs"),
                "ticker": await rest.public("Ticker", {"pair": "XBTUSD"}),
                "ohlc": await rest.public("OHLC", {"pair": "XBTUSD", "interval": 1}),
                "depth": await rest.public("Depth", {"pair": "XBTUSD", "count": 3}),
                "trades": await rest.public("Trades", {"pair": "XBTUSD"}),
            }

    out = run(calls)
    assert out["time"]["unixtime"] > 1_700_000_000
    assert out["status"]["status"] == "online"
    assert "XXBT" in out["assets"]
    altnames = {p["altname"] for p in out["pairs"].values()}
    assert {"XBTUSD", "ETHUSD", "XBTEUR", "ETHXBT", "USDTUSD"} <= altnames
    (ticker,) = out["ticker"].values()
    assert float(ticker["a"][0]) > float(ticker["b"][0]) > 0
    (book,) = (v for k, v in out["depth"].items())
    assert len(book["asks"]) == 3
    assert len(book["bids"]) == 3
    assert "last" in out["trades"]
    assert "last" in out["ohlc"]


def test_private_endpoints_and_order_lifecycle(emulator: Emulator, tmp_path: Path) -> None:
    async def lifecycle() -> dict[str, Any]:
        async with client(emulator, tmp_path, USD="100000") as rest:
            seen: dict[str, Any] = {"balance": await rest.private("Balance")}
            seen["balance_ex"] = await rest.private("BalanceEx")
            placed = await rest.add_order(
                {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
                 "price": "1000.0", "cl_ord_id": "it-rest-1"}
            )  # fmt: skip
            seen["placed"] = placed
            seen["found"] = await rest.find_order("it-rest-1")
            seen["open"] = await rest.private("OpenOrders")
            seen["query"] = await rest.private("QueryOrders", {"txid": placed["txid"][0]})
            seen["cancel"] = await rest.private("CancelOrder", {"cl_ord_id": "it-rest-1"})
            seen["closed"] = await rest.private("ClosedOrders")
            bought = await rest.add_order(
                {"pair": "XBTUSD", "type": "buy", "ordertype": "market", "volume": "0.01",
                 "cl_ord_id": "it-rest-2"}
            )  # fmt: skip
            seen["bought"] = bought
            seen["trades"] = await rest.private("TradesHistory")
            seen["after"] = await rest.private("CancelAllOrdersAfter", {"timeout": 60})
            seen["cancel_all"] = await rest.private("CancelAll")
            seen["token"] = await rest.private("GetWebSocketsToken")
            return seen

    seen = run(lifecycle)
    assert seen["balance"]["ZUSD"].startswith("100000")
    assert "hold_trade" in seen["balance_ex"]["ZUSD"]
    txid = seen["placed"]["txid"][0]
    assert seen["found"] == txid
    assert txid in seen["open"]["open"]
    assert seen["query"][txid]["status"] == "open"
    assert seen["cancel"]["count"] == 1
    assert seen["closed"]["closed"][txid]["status"] == "canceled"
    assert len(seen["trades"]["trades"]) >= 1
    assert seen["after"]["triggerTime"] != "0"
    assert seen["token"]["expires"] == 900


def test_errors_arrive_as_typed_exceptions(emulator: Emulator, tmp_path: Path) -> None:
    async def unknown_pair() -> object:
        async with client(emulator, tmp_path) as rest:
            return await rest.public("Ticker", {"pair": "NOPEUSD"})

    with pytest.raises(UnknownAssetPairError):
        run(unknown_pair)

    async def too_poor() -> object:
        async with client(emulator, tmp_path, USD="10") as rest:
            return await rest.add_order(
                {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "1",
                 "price": "1000.0", "cl_ord_id": "it-rest-poor"}
            )  # fmt: skip

    with pytest.raises(InsufficientFundsError):
        run(too_poor)

    async def bad_key() -> object:
        rest = KrakenRest(
            emulator.url,
            credentials=Credentials("nokey", "c2VjcmV0"),
            nonces=NonceStore(tmp_path / "nonce-bad"),
        )
        async with rest:
            return await rest.private("Balance")

    with pytest.raises(InvalidKeyError):
        run(bad_key)


def test_a_lost_add_order_answer_is_recovered_without_a_second_order(
    emulator: Emulator, tmp_path: Path
) -> None:
    transport = LoseFirstAddOrderAnswer()

    async def place() -> tuple[dict[str, Any], dict[str, Any]]:
        http = httpx.AsyncClient(transport=transport, timeout=10)
        async with http, client(emulator, tmp_path, http, USD="100000") as rest:
            placed = await rest.add_order(
                {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.01",
                 "price": "1000.0", "cl_ord_id": "it-lost-1"}
            )  # fmt: skip
            return placed, await rest.private("OpenOrders")

    placed, open_orders = run(place)
    assert transport.lost == 1
    assert placed["recovered"] is True
    assert list(open_orders["open"]) == placed["txid"]  # exactly one order exists


def test_batches_amends_and_edits(emulator: Emulator, tmp_path: Path) -> None:
    limit = {"type": "buy", "ordertype": "limit", "volume": "0.01", "price": "1000.0"}

    async def calls() -> dict[str, Any]:
        async with client(emulator, tmp_path, USD="100000") as rest:
            batch = await rest.add_order_batch(
                "XBTUSD", [{**limit, "cl_ord_id": "it-b-1"}, {**limit, "cl_ord_id": "it-b-2"}]
            )
            first, second = (order["txid"] for order in batch["orders"])
            amended = await rest.private("AmendOrder", {"txid": first, "order_qty": "0.005"})
            edited = await rest.private(
                "EditOrder", {"txid": second, "pair": "XBTUSD", "price": "999.0"}
            )
            orders = await rest.private("QueryOrders", {"txid": f"{first},{edited['txid']}"})
            return {"batch": batch, "amended": amended, "edited": edited, "orders": orders,
                    "first": first, "second": second}  # fmt: skip

    out = run(calls)
    assert len(out["batch"]["orders"]) == 2
    assert "amend_id" in out["amended"]
    assert out["orders"][out["first"]]["vol"].startswith("0.005")
    assert out["edited"]["originaltxid"] == out["second"]
    assert out["orders"][out["edited"]["txid"]]["descr"]["price"].startswith("999")

    async def one_order_batch() -> object:
        async with client(emulator, tmp_path, USD="100000") as rest:
            return await rest.add_order_batch("XBTUSD", [{**limit}])

    with pytest.raises(ValueError, match="cl_ord_id on every order"):
        run(one_order_batch)


def test_the_registry_filter_keeps_the_emulators_usd_pairs(
    emulator: Emulator, tmp_path: Path
) -> None:
    from aether.venues.kraken.asset_pairs import instruments_from_asset_pairs
    from aether.venues.kraken.instrument_snapshot import load_instrument_snapshot

    async def pairs() -> Any:
        async with client(emulator, tmp_path) as rest:
            return await rest.public("AssetPairs")

    load = instruments_from_asset_pairs(run(pairs))
    assert {"XBTUSD", "ETHUSD"} <= set(load.instruments)
    assert load.skipped["XBTEUR"] == "quoted in EUR, not USD"
    assert load.skipped["ETHXBT"] == "quoted in XBT, not USD"
    snapshot = load_instrument_snapshot()
    for symbol in ("XBTUSD", "ETHUSD"):
        got, want = load.instruments[symbol], snapshot[symbol]
        assert (got.tick_size, got.lot_size, got.min_quantity) == (
            want.tick_size, want.lot_size, want.min_quantity
        )  # fmt: skip
