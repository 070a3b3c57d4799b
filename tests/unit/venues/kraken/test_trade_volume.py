"""Parsing Kraken's TradeVolume into exact maker/taker fractions per pair: the compact field
names, the reference's documented example (underscored names, nulls at the top tier), pairs
without a maker side, and malformed answers refused naming the field."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from aether.venues.kraken.symbols import pair_key
from aether.venues.kraken.trade_volume import TradeVolumeError, parse_trade_volume

# Kraken's own example from the "Get Trade Volume" reference (docs.kraken.com), as printed.
DOCUMENTED = json.loads("""
{"currency": "ZUSD", "volume": "200709587.4223",
 "fees": {"XXBTZUSD": {"fee": "0.1000", "min_fee": "0.1000", "max_fee": "0.2600",
          "next_fee": null, "next_volume": null, "tier_volume": "10000000.0000"}},
 "fees_maker": {"XXBTZUSD": {"fee": "0.0000", "min_fee": "0.0000", "max_fee": "0.1600",
                "next_fee": null, "next_volume": null, "tier_volume": "10000000.0000"}}}
""")


def tier(fee: str, nextfee: str | None, nextvolume: str | None, tiervolume: str) -> Any:
    return {"fee": fee, "minfee": "0.1000", "maxfee": "0.4000", "nextfee": nextfee,
            "nextvolume": nextvolume, "tiervolume": tiervolume}  # fmt: skip


COMPACT = {
    "currency": "ZUSD",
    "volume": "60000.0000",
    "fees": {
        "XXBTZUSD": tier("0.2400", "0.2200", "100000.0000", "50000.0000"),
        "SOLUSD": tier("0.2400", "0.2200", "100000.0000", "50000.0000"),
    },
    "fees_maker": {
        "XXBTZUSD": tier("0.1400", "0.1200", "100000.0000", "50000.0000"),
        "SOLUSD": tier("0.1400", "0.1200", "100000.0000", "50000.0000"),
    },
}


def key_of(altname: str) -> str | None:
    return {"XBTUSD": "XXBTZUSD", "ETHUSD": "XETHZUSD"}.get(altname)


def test_the_documented_example_parses_exactly() -> None:
    parsed = parse_trade_volume(DOCUMENTED, ["XBTUSD"], pair_key)
    assert parsed.currency == "ZUSD"
    assert parsed.volume == Decimal("200709587.4223")
    xbt = parsed.fees["XBTUSD"]
    assert (xbt.taker, xbt.maker) == (Decimal("0.001"), Decimal("0"))
    assert str(xbt.taker) == "0.001000"  # percent / 100, digit for digit
    assert xbt.taker_tier.next_fee is None
    assert xbt.taker_tier.next_volume_usd is None
    assert xbt.taker_tier.tier_volume_usd == Decimal("10000000.0000")


def test_compact_names_and_a_pair_keyed_by_its_altname() -> None:
    parsed = parse_trade_volume(COMPACT, ["XBTUSD", "SOLUSD"], key_of)
    assert set(parsed.fees) == {"XBTUSD", "SOLUSD"}
    sol = parsed.fees["SOLUSD"]
    assert (sol.maker, sol.taker) == (Decimal("0.0014"), Decimal("0.0024"))
    assert all(isinstance(v, Decimal) for v in (sol.maker, sol.taker))
    assert sol.maker_tier.next_fee == Decimal("0.0012")
    assert sol.taker_tier.next_volume_usd == Decimal("100000.0000")


def test_a_pair_without_a_maker_side_pays_its_one_rate_both_ways() -> None:
    answer = {**COMPACT, "fees_maker": {}}
    xbt = parse_trade_volume(answer, ["XBTUSD"], key_of).fees["XBTUSD"]
    assert xbt.maker == xbt.taker == Decimal("0.0024")


def test_no_pairs_asked_reads_the_volume_only() -> None:
    parsed = parse_trade_volume({"currency": "ZUSD", "volume": "12.5"}, [], key_of)
    assert parsed.volume == Decimal("12.5")
    assert parsed.fees == {}


def broken(path: list[str], value: object) -> dict[str, Any]:
    answer = json.loads(json.dumps(COMPACT))
    target = answer
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return answer


@pytest.mark.parametrize(
    ("answer", "named"),
    [
        ([], "result is not an object"),
        ({**COMPACT, "currency": 5}, "currency"),
        ({**COMPACT, "volume": 60000.0}, "volume"),
        ({**COMPACT, "volume": "NaN"}, "volume"),
        ({**COMPACT, "fees": {}}, "no entry for XBTUSD"),
        ({**COMPACT, "fees": []}, "fees"),
        (broken(["fees", "XXBTZUSD", "fee"], 0.24), "fees[XXBTZUSD].fee"),
        (broken(["fees", "XXBTZUSD", "fee"], "-0.1"), "fees[XXBTZUSD].fee"),
        (broken(["fees", "XXBTZUSD", "fee"], "150"), "fees[XXBTZUSD].fee"),
        (broken(["fees_maker", "XXBTZUSD", "fee"], "x"), "fees_maker[XXBTZUSD].fee"),
        (broken(["fees", "XXBTZUSD", "tiervolume"], None), "fees[XXBTZUSD].tiervolume"),
        (broken(["fees", "XXBTZUSD", "nextfee"], 1), "fees[XXBTZUSD].nextfee"),
        (broken(["fees", "XXBTZUSD"], "0.24"), "fees[XXBTZUSD]: not an object"),
    ],
)
def test_malformed_answers_are_refused_naming_the_field(answer: Any, named: str) -> None:
    with pytest.raises(TradeVolumeError) as caught:
        parse_trade_volume(answer, ["XBTUSD"], key_of)
    assert named in str(caught.value)
