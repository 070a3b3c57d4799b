"""API-Sign against Kraken's published worked example, byte for byte.

Source: Kraken's "Spot REST Authentication" guide
(https://docs.kraken.com/api/docs/guides/spot-rest-auth, also served as
https://docs.kraken.com/exchange/guides/rest/authentication), section "Examples": a new limit
order, buy 1.25 XBTUSD at $37,500. The guide gives one worked example (form-encoded); the
copies found carry the same values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from aether.venues.kraken.signing import SigningError, api_sign

DOC_PRIVATE_KEY = (
    "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
)
DOC_NONCE = "1616492376594"
DOC_PAYLOAD = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
DOC_URI_PATH = "/0/private/AddOrder"
DOC_API_SIGN = (
    "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
)


def test_reproduces_the_guides_worked_example_byte_for_byte() -> None:
    assert api_sign(DOC_URI_PATH, DOC_NONCE, DOC_PAYLOAD, DOC_PRIVATE_KEY) == DOC_API_SIGN


def test_an_integer_nonce_signs_like_its_decimal_string() -> None:
    assert api_sign(DOC_URI_PATH, int(DOC_NONCE), DOC_PAYLOAD, DOC_PRIVATE_KEY) == DOC_API_SIGN


def _flip_one_byte(text: str, index: int) -> str:
    replacement = "0" if text[index] != "0" else "1"
    return text[:index] + replacement + text[index + 1 :]


@pytest.mark.parametrize("index", [0, 30, len(DOC_PAYLOAD) - 1])
def test_one_changed_body_byte_changes_the_signature(index: int) -> None:
    body = _flip_one_byte(DOC_PAYLOAD, index)
    assert api_sign(DOC_URI_PATH, DOC_NONCE, body, DOC_PRIVATE_KEY) != DOC_API_SIGN


def test_one_changed_nonce_digit_changes_the_signature() -> None:
    nonce = _flip_one_byte(DOC_NONCE, len(DOC_NONCE) - 1)
    assert api_sign(DOC_URI_PATH, nonce, DOC_PAYLOAD, DOC_PRIVATE_KEY) != DOC_API_SIGN


@pytest.mark.parametrize(
    "path", ["/0/private/AddOrdes", "/0/private/Balance", "/0/private/addOrder"]
)
def test_a_changed_uri_path_changes_the_signature(path: str) -> None:
    # A signature valid for one endpoint must not be valid for another.
    assert api_sign(path, DOC_NONCE, DOC_PAYLOAD, DOC_PRIVATE_KEY) != DOC_API_SIGN


def test_a_json_body_is_signed_as_the_exact_text_sent() -> None:
    body = '{"nonce":"1616492376594","ordertype":"limit","pair":"XBTUSD","price":"37500"}'
    # The guide's formula, computed independently here for the JSON text.
    message = DOC_URI_PATH.encode() + hashlib.sha256((DOC_NONCE + body).encode()).digest()
    expected = base64.b64encode(
        hmac.new(base64.b64decode(DOC_PRIVATE_KEY), message, hashlib.sha512).digest()
    ).decode()
    assert api_sign(DOC_URI_PATH, DOC_NONCE, body, DOC_PRIVATE_KEY) == expected
    # Re-serialising with other whitespace is another body, so another signature.
    spaced = body.replace(",", ", ")
    assert api_sign(DOC_URI_PATH, DOC_NONCE, spaced, DOC_PRIVATE_KEY) != expected


@pytest.mark.parametrize("nonce", [-1, 2**64, "12a", "", " 1", "1.5", True])
def test_a_nonce_that_is_not_an_unsigned_64_bit_integer_is_refused(nonce: object) -> None:
    with pytest.raises(SigningError, match="nonce"):
        api_sign(DOC_URI_PATH, nonce, DOC_PAYLOAD, DOC_PRIVATE_KEY)  # type: ignore[arg-type]


def test_a_secret_that_is_not_base64_is_refused_without_echoing_it() -> None:
    secret = "not*base64*secret-material"
    with pytest.raises(SigningError, match="base64") as caught:
        api_sign(DOC_URI_PATH, DOC_NONCE, DOC_PAYLOAD, secret)
    assert "secret-material" not in str(caught.value)


def test_a_secret_with_stray_characters_is_refused_not_cleaned() -> None:
    # "QUJDREVG" is base64 for "ABCDEF"; a lenient decoder would drop the "*" and sign.
    with pytest.raises(SigningError, match="base64"):
        api_sign(DOC_URI_PATH, DOC_NONCE, DOC_PAYLOAD, "QUJD*REVG")


def test_an_empty_secret_and_a_relative_path_are_refused() -> None:
    with pytest.raises(SigningError, match="empty"):
        api_sign(DOC_URI_PATH, DOC_NONCE, DOC_PAYLOAD, "")
    with pytest.raises(SigningError, match="uri_path"):
        api_sign("0/private/AddOrder", DOC_NONCE, DOC_PAYLOAD, DOC_PRIVATE_KEY)
