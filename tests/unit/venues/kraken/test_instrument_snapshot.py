"""The shipped Kraken instrument snapshot: contents, documented facts and fail-closed loading."""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import aether
import aether.venues.kraken as kraken
from aether.domain.instruments import InstrumentKind
from aether.domain.universe import require_spot_usd
from aether.venues.kraken.instrument_snapshot import (
    SNAPSHOT_AS_OF,
    SnapshotError,
    load_instrument_snapshot,
    shipped_snapshot_path,
)

# Kraken's altname for DOGE/USD is XDGUSD (base XDG), as XBT is its code for bitcoin.
MAIN_PAIRS = {
    "XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "ADAUSD",
    "DOTUSD", "LTCUSD", "LINKUSD", "XDGUSD", "AVAXUSD",
}  # fmt: skip


def test_snapshot_covers_the_main_usd_spot_pairs() -> None:
    snapshot = load_instrument_snapshot()
    assert set(snapshot) >= MAIN_PAIRS
    for symbol, instrument in snapshot.items():
        assert instrument.symbol == symbol
        assert require_spot_usd(instrument) is instrument
        assert instrument.kind is InstrumentKind.SPOT
        assert instrument.venue == "kraken"
        assert instrument.quote == "USD"
        assert symbol == instrument.base + "USD"
        assert instrument.tick_size > 0
        assert instrument.lot_size > 0
        assert instrument.min_quantity > 0
        assert instrument.min_quantity % instrument.lot_size == 0
        tiers = instrument.fees.tiers
        volumes = [t.min_volume_usd for t in tiers]
        assert volumes[0] == 0
        assert volumes == sorted(set(volumes))
        # Rates fall as volume rises, and a maker never pays more than a taker.
        assert [t.taker for t in tiers] == sorted((t.taker for t in tiers), reverse=True)
        assert all(Decimal(0) <= t.maker <= t.taker < Decimal("0.01") for t in tiers)


def test_xbtusd_facts_as_documented() -> None:
    xbt = load_instrument_snapshot()["XBTUSD"]
    assert (xbt.base, xbt.quote) == ("XBT", "USD")
    assert xbt.tick_size == Decimal("0.1")
    assert xbt.lot_size == Decimal("0.00000001")
    assert xbt.min_quantity == Decimal("0.00005")
    assert xbt.min_cost == Decimal("0.5")
    assert xbt.tags == frozenset()  # every XBTUSD fact is confirmed
    first, last = xbt.fees.tiers[0], xbt.fees.tiers[-1]
    assert (first.maker, first.taker) == (Decimal("0.0025"), Decimal("0.0040"))
    assert (last.min_volume_usd, last.maker, last.taker) == (
        Decimal(10_000_000),
        Decimal(0),
        Decimal("0.0010"),
    )
    tier = xbt.fees.tier_for(Decimal(60_000))
    assert (tier.min_volume_usd, tier.maker, tier.taker) == (
        Decimal(50_000),
        Decimal("0.0014"),
        Decimal("0.0024"),
    )
    assert len(xbt.fees.tiers) == 10
    # The instrument's own rules now work on these facts.
    assert xbt.check_price("65000.1") == Decimal("65000.1")
    assert xbt.check_quantity("0.00005") == Decimal("0.00005")


def test_unconfirmed_facts_are_tagged() -> None:
    snapshot = load_instrument_snapshot()
    assert "unconfirmed:tick_size" in snapshot["LINKUSD"].tags
    assert snapshot["SOLUSD"].tags == frozenset()


def test_as_of_constant_matches_the_file() -> None:
    raw = json.loads(shipped_snapshot_path().read_text())
    assert raw["as_of"] == SNAPSHOT_AS_OF


def corrupt(tmp_path: Path, change: Any) -> Path:
    raw = json.loads(shipped_snapshot_path().read_text())
    change(raw)
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(raw))
    return path


def _set(symbol: str, field: str, value: object) -> Any:
    return lambda raw: raw["instruments"][symbol].__setitem__(field, value)


def _drop(symbol: str, field: str) -> Any:
    return lambda raw: raw["instruments"][symbol].pop(field)


def _maker_breakpoint(raw: dict[str, Any]) -> None:
    raw["fee_schedules"]["kraken_spot_crypto"]["fees_maker"][1][0] = "20000"


CORRUPTIONS = [
    ("non-decimal string", _set("XBTUSD", "ordermin", "0.0001x"), "XBTUSD.ordermin", "decimal"),
    ("JSON number", _set("ETHUSD", "costmin", 0.5), "ETHUSD.costmin", "decimal string"),
    ("NaN string", _set("ETHUSD", "tick_size", "NaN"), "ETHUSD.tick_size", "finite"),
    ("unknown field", _set("SOLUSD", "leverage", "5"), "SOLUSD.leverage", "unknown field"),
    ("missing field", _drop("XBTUSD", "lot_decimals"), "XBTUSD.lot_decimals", "missing field"),
    ("bool decimals", _set("XBTUSD", "lot_decimals", True), "XBTUSD.lot_decimals", "integer"),
    ("not USD", _set("ADAUSD", "quote", "EUR"), "ADAUSD.quote", "must be USD"),
    ("wrong base", _set("ADAUSD", "base", "DOT"), "ADAUSD.base", "does not spell"),
    ("zero tick", _set("DOTUSD", "tick_size", "0"), "DOTUSD", "tick_size must be positive"),
    ("unknown schedule", _set("XBTUSD", "fee_schedule", "vip"), "XBTUSD.fee_schedule", "vip"),
    ("breakpoints", _maker_breakpoint, "kraken_spot_crypto.fees_maker", "breakpoints"),
]


@pytest.mark.parametrize(
    ("change", "where", "why"),
    [case[1:] for case in CORRUPTIONS],
    ids=[case[0] for case in CORRUPTIONS],
)
def test_corrupted_snapshot_fails_naming_symbol_and_field(
    tmp_path: Path, change: Any, where: str, why: str
) -> None:
    path = corrupt(tmp_path, change)
    with pytest.raises(SnapshotError) as caught:
        load_instrument_snapshot(path)
    assert "snapshot.json: " in str(caught.value)
    assert where in str(caught.value)
    assert why in str(caught.value)


def test_unknown_top_level_field_and_bad_json(tmp_path: Path) -> None:
    path = corrupt(tmp_path, lambda raw: raw.__setitem__("extra", 1))
    with pytest.raises(SnapshotError, match=r"snapshot\.extra: unknown field"):
        load_instrument_snapshot(path)
    path.write_text('{"as_of": ')
    with pytest.raises(SnapshotError, match="not valid JSON"):
        load_instrument_snapshot(path)


def test_the_snapshot_ships_with_the_kraken_adapter_as_package_data() -> None:
    path = shipped_snapshot_path()
    assert path.parent == Path(kraken.__file__).parent / "data"
    # A wheel carries only what package-data names (an editable install hides a miss).
    project = tomllib.loads((Path(aether.__file__).parents[2] / "pyproject.toml").read_text())
    globs = project["tool"]["setuptools"]["package-data"]["aether"]
    relative = path.relative_to(Path(aether.__file__).parent)
    assert any(relative.match(glob) for glob in globs), (relative, globs)
