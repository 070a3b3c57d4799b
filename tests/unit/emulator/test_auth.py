"""The emulator checks keys, signatures and nonces as Kraken does, with Kraken's errors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse

import pytest

from aether.emulator.rest.auth import (
    INVALID_ARGUMENTS,
    INVALID_KEY,
    INVALID_NONCE,
    INVALID_SIGNATURE,
    AuthError,
    authenticate,
)
from aether.emulator.runtime import NonceLedger

SECRET = bytes(range(64))
KEYS = {"key-1": SECRET, "key-2": bytes(64)}
PATH = "/0/private/AddOrder"
FORM = "application/x-www-form-urlencoded"


def sign(path: str, nonce: str, body: str, secret: bytes = SECRET) -> str:
    # Written out from Kraken's authentication guide, independently of the module under test.
    message = path.encode() + hashlib.sha256((nonce + body).encode()).digest()
    return base64.b64encode(hmac.new(secret, message, hashlib.sha512).digest()).decode()


def request(
    body: str,
    *,
    key: str = "key-1",
    sig: str | None = None,
    content_type: str = FORM,
    nonces: NonceLedger | None = None,
    nonce: str | None = None,
) -> object:
    fields = dict(urllib.parse.parse_qsl(body)) if content_type == FORM else json.loads(body)
    n = nonce if nonce is not None else str(fields.get("nonce", ""))
    headers = {
        "api-key": key,
        "api-sign": sig if sig is not None else sign(PATH, n, body),
        "content-type": content_type,
    }
    return authenticate(
        uri_path=PATH,
        headers=headers,
        body=body.encode(),
        secret_for=KEYS.get,
        nonces=nonces or NonceLedger(),
    )


def refused(body: str, **kwargs: object) -> str:
    with pytest.raises(AuthError) as caught:
        request(body, **kwargs)  # type: ignore[arg-type]
    return str(caught.value)


def test_a_correctly_signed_form_request_is_accepted_with_its_fields() -> None:
    done = request("nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&volume=1.25")
    assert done.api_key == "key-1"  # type: ignore[attr-defined]
    assert done.nonce == 1616492376594  # type: ignore[attr-defined]
    assert done.params["pair"] == "XBTUSD"  # type: ignore[attr-defined]


def test_a_json_body_is_signed_as_sent() -> None:
    body = json.dumps({"nonce": 1700000000000, "ordertype": "limit", "volume": "1"})
    done = request(body, content_type="application/json")
    assert done.params["ordertype"] == "limit"  # type: ignore[attr-defined]
    assert done.nonce == 1700000000000  # type: ignore[attr-defined]


def test_unknown_or_missing_key() -> None:
    assert refused("nonce=1", key="nope") == INVALID_KEY
    assert refused("nonce=1", key="") == INVALID_KEY


def test_a_signature_from_another_secret_or_over_other_bytes_is_refused() -> None:
    body = "nonce=5&volume=1"
    assert refused(body, sig=sign(PATH, "5", body, secret=bytes(64))) == INVALID_SIGNATURE
    assert refused(body, sig=sign(PATH, "5", "nonce=5&volume=2")) == INVALID_SIGNATURE
    assert refused(body, sig=sign("/0/private/Balance", "5", body)) == INVALID_SIGNATURE
    assert refused(body, sig="not base64!") == INVALID_SIGNATURE


def test_nonces_must_strictly_increase_per_key_and_forgeries_burn_none() -> None:
    ledger = NonceLedger()
    request("nonce=10", nonces=ledger)
    assert refused("nonce=10", nonces=ledger) == INVALID_NONCE
    assert refused("nonce=9", nonces=ledger) == INVALID_NONCE
    assert refused("nonce=11", nonces=ledger, sig=sign(PATH, "11", "other")) == INVALID_SIGNATURE
    request("nonce=11", nonces=ledger)  # the forged attempt did not use up 11
    request("nonce=1", nonces=ledger, key="key-2", sig=sign(PATH, "1", "nonce=1", bytes(64)))


@pytest.mark.parametrize(
    "body", ["volume=1", "nonce=&volume=1", "nonce=-3", "nonce=1e9", f"nonce={2**64}"]
)
def test_missing_or_malformed_nonce(body: str) -> None:
    assert refused(body) == INVALID_NONCE


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("nonce=1&&&=", FORM), ("[1, 2]", "application/json"), ("{nonce", "application/json")],
)
def test_malformed_bodies_get_the_invalid_arguments_error(body: str, content_type: str) -> None:
    headers = {"api-key": "key-1", "api-sign": sign(PATH, "1", body), "content-type": content_type}
    with pytest.raises(AuthError) as caught:
        authenticate(
            uri_path=PATH, headers=headers, body=body.encode(), secret_for=KEYS.get,
            nonces=NonceLedger(),
        )  # fmt: skip
    assert str(caught.value) == INVALID_ARGUMENTS


def test_non_utf8_body_is_invalid_arguments() -> None:
    headers = {"api-key": "key-1", "api-sign": "x", "content-type": FORM}
    with pytest.raises(AuthError, match="EGeneral:Invalid arguments"):
        authenticate(
            uri_path=PATH, headers=headers, body=b"\xff\xfe", secret_for=KEYS.get,
            nonces=NonceLedger(),
        )  # fmt: skip
