"""The one JSON codec for exact decimals: Decimals out as exact numbers or as strings, in as
Decimal when asked, everything else exactly as the standard library writes it."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aether.domain.decimal_json import DecimalForm, JsonNumber, dumps, loads

PLAIN = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
    lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.text(), inner)),
    max_leaves=25,
)
EXACT = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(),
        st.decimals(allow_nan=False, allow_infinity=False),
    ),
    lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.text(), inner)),
    max_leaves=25,
)


def test_decimals_are_exact_json_numbers_as_kraken_v2_takes_them() -> None:
    order = {"limit_price": Decimal("30000.10"), "order_qty": Decimal("1E-8"), "side": "buy"}
    assert dumps(order) == '{"limit_price":30000.10,"order_qty":0.00000001,"side":"buy"}'
    assert dumps([Decimal("-0.0026"), (1, True, None)]) == "[-0.0026,[1,true,null]]"


def test_decimals_as_strings_are_the_audit_chains_stored_form() -> None:
    details = {"b": Decimal("1E-8"), "a": Decimal("1.50"), "note": "é"}
    assert dumps(details, decimals="string", sort_keys=True, ensure_ascii=False) == (
        '{"a":"1.50","b":"1E-8","note":"é"}'
    )
    assert dumps(details, decimals="string") == '{"b":"1E-8","a":"1.50","note":"\\u00e9"}'


def test_a_json_number_already_written_goes_out_unquoted() -> None:
    assert dumps({"price": JsonNumber("30000.1")}) == '{"price":30000.1}'


def test_other_types_need_a_default_and_are_refused_without_one() -> None:
    ident = uuid.UUID("00000000-0000-4000-8000-000000000001")
    forms: tuple[DecimalForm, ...] = ("number", "string")
    for form in forms:
        assert dumps({"id": ident}, decimals=form, default=str) == f'{{"id":"{ident}"}}'
        with pytest.raises(TypeError, match="UUID"):
            dumps({"id": ident}, decimals=form)


def test_non_integer_numbers_read_as_decimal_or_float_as_asked() -> None:
    text = '{"price":42261.0406175669,"qty":1.5e-8,"n":3,"none":null}'
    exact = loads(text, floats="decimal")
    assert exact == {
        "price": Decimal("42261.0406175669"),
        "qty": Decimal("1.5e-8"),
        "n": 3,
        "none": None,
    }
    assert str(exact["price"]) == "42261.0406175669"  # every digit as sent
    assert type(exact["n"]) is int
    assert loads(text.encode(), floats="float")["price"] == 42261.0406175669
    with pytest.raises(ValueError, match="Expecting"):
        loads("{bad", floats="decimal")


@given(PLAIN)
def test_values_without_decimals_are_written_as_the_standard_library_writes_them(
    value: object,
) -> None:
    assert dumps(value) == json.dumps(value, separators=(",", ":"))
    assert dumps(value, sort_keys=True, ensure_ascii=False) == json.dumps(
        value, separators=(",", ":"), sort_keys=True, ensure_ascii=False
    )


@given(EXACT)
def test_decimals_survive_a_round_trip_exactly(value: object) -> None:
    assert loads(dumps(value), floats="decimal") == value
    assert loads(dumps(value, decimals="string"), floats="decimal") == _as_text(value)


def _as_text(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_as_text(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_text(item) for key, item in value.items()}
    return value
