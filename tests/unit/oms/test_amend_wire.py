"""Amend's wire rules: AmendOrder names one order and sends exact values, and only a venue
that declares the capability is amended in place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aether.oms.amend_checks import AmendChange
from aether.oms.venue_port import amending
from aether.venues.kraken.rest import KrakenRest


@pytest.mark.parametrize(
    ("names", "values", "message"),
    [
        ({}, {"order_qty": Decimal("1")}, "exactly one of txid or cl_ord_id"),
        ({"txid": "O-1", "cl_ord_id": "a"}, {"order_qty": Decimal("1")}, "exactly one"),
        ({"cl_ord_id": "a"}, {}, "needs order_qty, limit_price or trigger_price"),
        ({"cl_ord_id": "a"}, {"limit_price": Decimal("NaN")}, "limit_price must be finite"),
    ],
)
async def test_amend_order_refuses_an_ambiguous_or_empty_amend_before_sending(
    names: dict[str, str], values: dict[str, Decimal], message: str
) -> None:
    async with KrakenRest("http://127.0.0.1:9") as rest:  # nothing listens: nothing is sent
        with pytest.raises(ValueError, match=message):
            await rest.amend_order(**names, **values)  # type: ignore[arg-type]


def test_only_a_venue_declaring_amend_is_amended_in_place() -> None:
    class Declares:
        supports_amend = True

    class Silent:
        async def amend(self) -> None: ...  # a method alone is not a declaration

    declares, silent = Declares(), Silent()
    assert amending(declares) is declares  # type: ignore[arg-type]
    assert amending(silent) is None  # type: ignore[arg-type]


def test_an_amend_records_exactly_the_values_given() -> None:
    change = AmendChange(quantity=Decimal("0.00200000"), trigger_price=Decimal("1E+5"))
    assert change.payload() == {"quantity": "0.00200000", "trigger_price": "100000"}
