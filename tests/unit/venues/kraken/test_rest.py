"""The REST client's own logic: envelope, signing (checked by the emulator's verifier),
retries, rate-limit waits, and order placement that never doubles."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from aether.emulator.rest.auth import authenticate
from aether.emulator.runtime import NonceLedger
from aether.venues.kraken.errors import ApiRateLimitError, KrakenError, UnknownAssetPairError
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rest import Credentials, KrakenRest, KrakenTransportError

SECRET = bytes(range(64))
CREDS = Credentials("key-1", base64.b64encode(SECRET).decode())
BASE = "http://kraken.test"


def ok(result: object) -> httpx.Response:
    return httpx.Response(200, json={"error": [], "result": result})


def err(*errors: str) -> httpx.Response:
    return httpx.Response(200, json={"error": list(errors)})


class Venue:
    """A scripted venue: verifies every private request as Kraken would, then answers."""

    def __init__(self, answer: Callable[[str, dict[str, str], int], httpx.Response]) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.ledger = NonceLedger()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[1]
        if request.url.path.startswith("/0/private/"):
            done = authenticate(
                uri_path=request.url.path,
                headers=request.headers,
                body=request.content,
                secret_for={"key-1": SECRET}.get,
                nonces=self.ledger,
            )
            fields = dict(done.params)
        else:
            fields = dict(parse_qsl(request.url.query.decode()))
        self.calls.append((method, fields))
        return self.answer(method, fields, sum(1 for m, _ in self.calls if m == method))


def client(
    venue: Venue, tmp_path: Path, sleeps: list[float] | None = None, **kw: Any
) -> KrakenRest:
    clock = [0.0]
    recorded = sleeps if sleeps is not None else []

    async def sleep(seconds: float) -> None:
        recorded.append(seconds)
        clock[0] += seconds

    return KrakenRest(
        BASE,
        credentials=CREDS,
        nonces=NonceStore(tmp_path / "nonce"),
        client=httpx.AsyncClient(transport=httpx.MockTransport(venue)),
        monotonic=lambda: clock[0],
        sleep=sleep,
        **kw,
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_public_result_and_typed_errors(tmp_path: Path) -> None:
    def answer(method: str, fields: dict[str, str], n: int) -> httpx.Response:
        if fields.get("pair") == "NOPE":
            return err("EQuery:Unknown asset pair")
        return ok({"unixtime": 1700000000})

    rest = client(Venue(answer), tmp_path)
    assert run(rest.public("Time")) == {"unixtime": 1700000000}
    with pytest.raises(UnknownAssetPairError) as caught:
        run(rest.public("Ticker", {"pair": "NOPE"}))
    assert caught.value.code == "query_unknown_asset_pair"


def test_private_calls_are_signed_so_that_kraken_accepts_them(tmp_path: Path) -> None:
    venue = Venue(lambda m, f, n: ok({"ZUSD": "100.0000"}))
    rest = client(venue, tmp_path)
    assert run(rest.private("Balance")) == {"ZUSD": "100.0000"}
    assert run(rest.private("Balance")) == {"ZUSD": "100.0000"}  # a fresh, larger nonce
    (_, first), (_, second) = venue.calls
    assert int(second["nonce"]) > int(first["nonce"])


def test_retryable_errors_back_off_then_give_up_with_the_typed_error(tmp_path: Path) -> None:
    busy_twice = Venue(lambda m, f, n: err("EService:Busy") if n <= 2 else ok({"status": "online"}))
    sleeps: list[float] = []
    rest = client(busy_twice, tmp_path, sleeps=sleeps)
    assert run(rest.public("SystemStatus")) == {"status": "online"}
    assert sleeps == [0.5, 1.0]
    always = Venue(lambda m, f, n: err("EAPI:Rate limit exceeded"))
    with pytest.raises(ApiRateLimitError):
        run(client(always, tmp_path, max_retries=2).public("Time"))
    assert len(always.calls) == 3


def test_a_lost_add_order_response_is_resolved_by_cl_ord_id_not_resent(tmp_path: Path) -> None:
    placed: dict[str, dict[str, str]] = {}

    def answer(method: str, fields: dict[str, str], n: int) -> httpx.Response:
        if method == "AddOrder":
            placed["OAAAAA-BBBBB-CCCCCC"] = {"cl_ord_id": fields["cl_ord_id"]}
            raise httpx.ReadTimeout("the answer was lost")
        if method == "OpenOrders":
            assert fields["cl_ord_id"] == "ae-7"
            return ok({"open": placed})
        return ok({"closed": {}})

    venue = Venue(answer)
    result = run(client(venue, tmp_path).add_order({"pair": "XBTUSD", "cl_ord_id": "ae-7"}))
    assert result == {"txid": ["OAAAAA-BBBBB-CCCCCC"], "recovered": True}
    assert [m for m, _ in venue.calls].count("AddOrder") == 1


def test_an_add_order_that_never_arrived_is_sent_again_once(tmp_path: Path) -> None:
    def answer(method: str, fields: dict[str, str], n: int) -> httpx.Response:
        if method == "AddOrder" and n == 1:
            raise httpx.ConnectError("refused")
        if method == "AddOrder":
            return ok({"txid": ["OX"], "descr": {"order": "buy"}})
        return ok({"open": {}} if method == "OpenOrders" else {"closed": {}})

    venue = Venue(answer)
    result = run(client(venue, tmp_path).add_order({"pair": "XBTUSD", "cl_ord_id": "ae-8"}))
    assert result["txid"] == ["OX"]
    assert [m for m, _ in venue.calls] == ["AddOrder", "OpenOrders", "ClosedOrders", "AddOrder"]


def test_a_look_up_that_fails_after_a_lost_response_is_never_followed_by_a_resend(
    tmp_path: Path,
) -> None:
    """Rate limited while looking the order up: the outcome stays unknown, so the client
    gives up with the look-up's error instead of sending the order again."""

    def answer(method: str, fields: dict[str, str], n: int) -> httpx.Response:
        if method == "AddOrder":
            raise httpx.ReadTimeout("the answer was lost")
        return err("EAPI:Rate limit exceeded")

    venue = Venue(answer)
    with pytest.raises(ApiRateLimitError):
        run(client(venue, tmp_path).add_order({"pair": "XBTUSD", "cl_ord_id": "ae-9"}))
    assert [m for m, _ in venue.calls].count("AddOrder") == 1


def test_an_order_refused_before_the_book_is_sent_again_after_the_backoff(
    tmp_path: Path,
) -> None:
    def answer(method: str, fields: dict[str, str], n: int) -> httpx.Response:
        if method == "AddOrder" and n <= 2:
            return err("EService:Unavailable")
        return ok({"txid": ["OY"], "descr": {"order": "buy"}})

    venue = Venue(answer)
    sleeps: list[float] = []
    rest = client(venue, tmp_path, sleeps=sleeps)
    result = run(rest.add_order({"pair": "XBTUSD", "cl_ord_id": "ae-10"}))
    assert result["txid"] == ["OY"]
    assert [m for m, _ in venue.calls] == ["AddOrder"] * 3  # a refusal needs no look-up
    assert sleeps == [0.5, 1.0]


def test_add_order_needs_a_cl_ord_id_and_private_refuses_add_order(tmp_path: Path) -> None:
    rest = client(Venue(lambda m, f, n: ok({})), tmp_path)
    with pytest.raises(ValueError, match="cl_ord_id"):
        run(rest.add_order({"pair": "XBTUSD"}))
    with pytest.raises(ValueError, match="use add_order"):
        run(rest.private("AddOrder", {"pair": "XBTUSD"}))


def test_timeouts_on_reads_end_as_transport_errors(tmp_path: Path) -> None:
    def answer(method: str, fields: dict[str, str], n: int) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    with pytest.raises(KrakenTransportError):
        run(client(Venue(answer), tmp_path, max_retries=1).public("Time"))


def test_the_client_waits_for_its_rest_counter_instead_of_being_refused(tmp_path: Path) -> None:
    sleeps: list[float] = []
    rest = client(Venue(lambda m, f, n: ok({})), tmp_path, sleeps=sleeps)

    async def burst() -> None:
        for _ in range(17):
            await rest.private("Balance")

    run(burst())
    # Starter: at most 15 points, draining 0.33 per second; call 16 waits about 3 s.
    assert sleeps
    assert sleeps[0] == pytest.approx(1 / 0.33, rel=0.01)


def test_a_rate_limit_refusal_fills_the_counter_so_the_retry_waits_for_it(
    tmp_path: Path,
) -> None:
    """Another process used the key: this client's counter says empty, Kraken says full."""
    venue = Venue(lambda m, f, n: err("EAPI:Rate limit exceeded") if n == 1 else ok({}))
    sleeps: list[float] = []
    rest = client(venue, tmp_path, sleeps=sleeps)
    assert run(rest.private("BalanceEx")) == {}
    backoff, drain = sleeps
    assert backoff == 0.5
    # Starter: full at 15, draining 0.33 a second; a call of 1 fits once 1 point drained.
    assert drain == pytest.approx(1 / 0.33 - backoff, rel=0.01)


def test_bad_envelopes_and_secrets_stay_out_of_reprs(tmp_path: Path) -> None:
    html = Venue(lambda m, f, n: httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(KrakenError, match="HTTP 502, not JSON"):
        run(client(html, tmp_path, max_retries=0).public("Time"))
    shapeless = Venue(lambda m, f, n: httpx.Response(200, content=json.dumps([1]).encode()))
    with pytest.raises(KrakenError, match="Invalid response"):
        run(client(shapeless, tmp_path).public("Time"))
    assert CREDS.api_secret not in repr(CREDS)
    with pytest.raises(ValueError, match="NonceStore"):
        KrakenRest(BASE, credentials=CREDS)
