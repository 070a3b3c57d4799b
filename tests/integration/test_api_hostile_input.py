"""Input PostgreSQL or Python would refuse is a 422 naming the field, never a 500: integers
beyond 64 bits, NUL characters, timestamps outside the storage range once in UTC, and
numbers that look like epoch milliseconds where epoch seconds are meant."""

from __future__ import annotations

import base64

import httpx

from tests.conftest import Seed


def forged_cursor(*parts: object) -> str:
    """A cursor in the API's own encoding, with positions it never writes."""
    raw = "|".join(["v1", *(str(p) for p in parts)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


CANDLES = "/api/v1/market/XBTUSD/candles?interval=1m"
TRADES = "/api/v1/market/XBTUSD/trades"

HOSTILE_QUERIES = [
    ("/api/v1/audit?after_seq=9223372036854775808", "query.after_seq"),
    ("/api/v1/audit?after_seq=-1", "query.after_seq"),
    ("/api/v1/audit?action=a%00b", "query.action"),
    ("/api/v1/audit?actor=%00", "query.actor"),
    ("/api/v1/keys?user=o%00ps", "query.user"),
    ("/api/v1/audit?since=9999-12-31T23:59:59-23:59", "query.since"),
    ("/api/v1/audit?until=0001-01-01T00:00:00%2B00:01", "query.until"),
    (f"{CANDLES}&start=9999-12-31T23:59:59-23:59", "query.start"),
    (f"{CANDLES}&end=9999-12-31T23:59:59Z", "query.end"),
    (f"{TRADES}?start=0001-01-01T00:00:00%2B14:00", "query.start"),
    (f"{TRADES}?cursor=%00", "query.cursor"),
    (f"{CANDLES}&cursor={forged_cursor('candles', 'XBTUSD', 60, '*', 10**30)}", "query.cursor"),
    (f"{CANDLES}&cursor={forged_cursor('candles', 'XBTUSD', 60, '*', 2**62)}", "query.cursor"),
    (f"{TRADES}?cursor={forged_cursor('trades', 'XBTUSD', 1, 2**64)}", "query.cursor"),
    ("/api/v1/market/XBT%00USD/trades", "path.symbol"),
    # Epoch seconds only: a number this large is epoch milliseconds (or nonsense).
    (f"{CANDLES}&start=99999999999", "query.start"),
    (f"{CANDLES}&end=1735689600000", "query.end"),
    (f"{TRADES}?start=-5", "query.start"),
]


def field_names(response: httpx.Response) -> list[str]:
    error = response.json()["error"]
    assert error["code"] == "validation_error", error
    return [f["field"] for f in error["fields"]]


HOSTILE_KEY_REQUESTS: list[tuple[dict[str, object], str]] = [
    ({"name": "a\u0000b", "scopes": ["read"]}, "body.name"),
    ({"name": "ok", "user": "ro\u0000ot"}, "body.user"),
    ({"name": "ok", "expires_at": "9999-12-31T23:59:59-23:59"}, "body.expires_at"),
    ({"name": "ok", "expires_at": 99999999999}, "body.expires_at"),
]


async def test_hostile_query_and_path_values_are_422_naming_the_field(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    # One app for every case: the refusals read no data, and a fresh app per case is slow.
    for path, field in HOSTILE_QUERIES:
        response = await aether_api.get(path, headers=aether_seed.admin.headers)
        assert response.status_code == 422, (path, response.text)
        assert field in field_names(response), (path, response.text)


async def test_hostile_key_requests_are_422_naming_the_field(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    for body, field in HOSTILE_KEY_REQUESTS:
        response = await aether_api.post(
            "/api/v1/keys", json=body, headers=aether_seed.admin.headers
        )
        assert response.status_code == 422, (body, response.text)
        assert field in field_names(response), (body, response.text)


async def test_hostile_bodies_elsewhere_are_422_naming_the_field(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    headers = aether_seed.admin.headers
    account = await aether_api.post(
        "/api/v1/accounts", json={"name": "Nul\u0000Fund"}, headers=headers
    )
    assert account.status_code == 422, account.text
    assert "body.name" in field_names(account)
    subscription = await aether_api.post(
        "/api/v1/subscriptions", json={"symbol": "XBT\u0000USD"}, headers=headers
    )
    assert subscription.status_code == 422, subscription.text
    assert "body.symbol" in field_names(subscription)
    kinds = await aether_api.post(
        "/api/v1/subscriptions", json={"symbol": "XBTUSD", "kinds": ["tr\u0000de"]}, headers=headers
    )
    assert kinds.status_code == 422, kinds.text
    assert "body.kinds.0" in field_names(kinds)


async def test_a_nul_in_a_path_symbol_is_refused_not_a_500(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    response = await aether_api.delete(
        "/api/v1/subscriptions/%00", headers=aether_seed.admin.headers
    )
    assert response.status_code == 422, response.text
    assert "path.symbol" in field_names(response)


async def test_epoch_seconds_are_read_as_seconds_and_echoed_in_utc(
    aether_api: httpx.AsyncClient, aether_seed: Seed
) -> None:
    headers = aether_seed.alice.headers
    page = await aether_api.get(f"{CANDLES}&start=1735689600&end=1735693200.5", headers=headers)
    assert page.status_code == 200, page.text
    assert page.json()["span"] == {
        "start": "2025-01-01T00:00:00Z",
        "end": "2025-01-01T01:00:00.500000Z",
    }
    zoned = await aether_api.get(f"{TRADES}?start=2025-01-01T05:30:00%2B05:30", headers=headers)
    assert zoned.status_code == 200, zoned.text
    assert zoned.json()["span"]["start"] == "2025-01-01T00:00:00Z"
