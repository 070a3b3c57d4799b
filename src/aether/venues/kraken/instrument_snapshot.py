"""A dated snapshot of Kraken's spot USD instruments, so a backtest runs without a venue.

The JSON file (``venues/kraken/data/kraken_usd_instruments.json``, package data found through
``importlib.resources``, so it works from an installed package as well as from a source
checkout) mirrors the fields of Kraken's REST ``AssetPairs`` answer that Aether needs. Its
values change over time: live and paper trading must take the registry from ``AssetPairs``
itself; docs/data.md says where each fact came from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from aether.domain.instruments import FeeSchedule, FeeTier, Instrument, InstrumentKind

__all__ = [
    "SNAPSHOT_AS_OF",
    "SNAPSHOT_FILE",
    "SnapshotError",
    "load_instrument_snapshot",
    "shipped_snapshot_path",
]

SNAPSHOT_FILE = "kraken_usd_instruments.json"
_PACKAGE = "aether.venues.kraken"  # the snapshot lives in its data/ folder
# The day the snapshot was compiled (the file's own ``as_of``; a test keeps the two equal).
SNAPSHOT_AS_OF = "2026-11-23"

_TOP = {"as_of", "venue", "description", "sources", "fee_schedules", "instruments"}
_SCHEDULE = {"volume_currency", "source", "fees", "fees_maker"}
_REQUIRED = {
    "kraken_pair",
    "wsname",
    "kraken_base",
    "kraken_quote",
    "base",
    "quote",
    "pair_decimals",
    "lot_decimals",
    "ordermin",
    "costmin",
    "fee_schedule",
    "unconfirmed",
    "source",
}
_OPTIONAL = {"tick_size"}  # Kraken's tick_size; without it the tick is 10^-pair_decimals.
_HUNDRED = Decimal(100)


class SnapshotError(ValueError):
    """The instrument snapshot is malformed; the message names the file, symbol and field."""


def shipped_snapshot_path() -> Path:
    """Filesystem path of the snapshot shipped in this package.

    FileNotFoundError when it is missing (package-data must include ``data/*.json``) or
    when the package is installed in a form without real files (a zip), which Aether does
    not use: callers read the file by path.
    """
    resource = resources.files(_PACKAGE).joinpath("data", SNAPSHOT_FILE)
    if not resource.is_file():
        raise FileNotFoundError(
            f"no shipped instrument snapshot {SNAPSHOT_FILE!r} in {_PACKAGE} "
            "(check that package-data includes venues/kraken/data/*.json)"
        )
    if not isinstance(resource, Path):
        raise FileNotFoundError(
            f"shipped file {SNAPSHOT_FILE!r} is not on the filesystem ({resource!r}); "
            "install aether unzipped"
        )
    return resource


def _fail(path: Path, where: str, why: str) -> SnapshotError:
    return SnapshotError(f"{path.name}: {where}: {why}")


def _check_keys(
    path: Path, where: str, obj: object, required: set[str], optional: set[str]
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise _fail(path, where, f"must be an object, got {type(obj).__name__}")
    missing = sorted(required - obj.keys())
    if missing:
        raise _fail(path, f"{where}.{missing[0]}", "missing field")
    unknown = sorted(obj.keys() - required - optional)
    if unknown:
        raise _fail(path, f"{where}.{unknown[0]}", "unknown field")
    return obj


def _text(path: Path, where: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(path, where, f"must be a non-empty string, got {value!r}")
    return value


def _count(path: Path, where: str, value: object) -> int:
    # bool is an int subclass; a JSON true must not pass as 1 decimal place.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 18:
        raise _fail(path, where, f"must be an integer from 0 to 18, got {value!r}")
    return value


def _decimal(path: Path, where: str, value: object) -> Decimal:
    """A decimal string parsed exactly; JSON numbers are refused (they may have been floats)."""
    if not isinstance(value, str):
        raise _fail(path, where, f"must be a decimal string, got {type(value).__name__} {value!r}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _fail(path, where, f"is not a decimal string: {value!r}") from None
    if not number.is_finite() or number < 0:
        raise _fail(path, where, f"must be a finite, non-negative decimal: {value!r}")
    return number


def _tiers(path: Path, where: str, value: object) -> list[tuple[Decimal, Decimal]]:
    """Kraken's ``[[30-day USD volume, percent], ...]`` with the percent made a fraction."""
    if not isinstance(value, list) or not value:
        raise _fail(path, where, "must be a non-empty list of [volume, percent] pairs")
    tiers = []
    for i, pair in enumerate(value):
        if not isinstance(pair, list) or len(pair) != 2:
            raise _fail(path, f"{where}[{i}]", f"must be a [volume, percent] pair, got {pair!r}")
        volume = _decimal(path, f"{where}[{i}][0]", pair[0])
        percent = _decimal(path, f"{where}[{i}][1]", pair[1])
        if percent >= _HUNDRED:
            raise _fail(path, f"{where}[{i}][1]", f"percent {percent} is not below 100")
        tiers.append((volume, percent / _HUNDRED))
    return tiers


def _schedule(path: Path, name: str, obj: object) -> FeeSchedule:
    where = f"fee_schedules.{name}"
    body = _check_keys(path, where, obj, _SCHEDULE, set())
    if body["volume_currency"] != "USD":
        raise _fail(path, f"{where}.volume_currency", "must be USD")
    _text(path, f"{where}.source", body["source"])
    taker = _tiers(path, f"{where}.fees", body["fees"])
    maker = _tiers(path, f"{where}.fees_maker", body["fees_maker"])
    # FeeTier carries both rates per breakpoint, so the two arrays must share breakpoints.
    if [v for v, _ in taker] != [v for v, _ in maker]:
        raise _fail(path, f"{where}.fees_maker", "volume breakpoints differ from fees")
    try:
        return FeeSchedule(
            tuple(FeeTier(v, m, t) for (v, t), (_, m) in zip(taker, maker, strict=True))
        )
    except ValueError as exc:
        raise _fail(path, where, str(exc)) from None


def _instrument(
    path: Path, symbol: str, obj: object, fees: Mapping[str, FeeSchedule]
) -> Instrument:
    body = _check_keys(path, symbol, obj, _REQUIRED, _OPTIONAL)
    texts = {
        key: _text(path, f"{symbol}.{key}", body[key])
        for key in ("kraken_pair", "wsname", "kraken_base", "kraken_quote", "base", "quote")
    }
    _text(path, f"{symbol}.source", body["source"])
    base, quote = texts["base"], texts["quote"]
    if quote != "USD":
        raise _fail(path, f"{symbol}.quote", f"must be USD, got {quote!r}")
    if symbol != base + quote:
        raise _fail(path, f"{symbol}.base", f"{base!r} + {quote!r} does not spell the symbol")
    if texts["wsname"] != f"{base}/{quote}":
        raise _fail(path, f"{symbol}.wsname", f"expected {base}/{quote}, got {texts['wsname']!r}")
    pair_decimals = _count(path, f"{symbol}.pair_decimals", body["pair_decimals"])
    lot_decimals = _count(path, f"{symbol}.lot_decimals", body["lot_decimals"])
    if "tick_size" in body:
        tick = _decimal(path, f"{symbol}.tick_size", body["tick_size"])
    else:
        tick = Decimal(1).scaleb(-pair_decimals)
    schedule_name = body["fee_schedule"]
    if schedule_name not in fees:
        raise _fail(path, f"{symbol}.fee_schedule", f"unknown schedule {schedule_name!r}")
    unconfirmed = body["unconfirmed"]
    if not isinstance(unconfirmed, list) or any(
        f not in _REQUIRED | _OPTIONAL for f in unconfirmed
    ):
        raise _fail(path, f"{symbol}.unconfirmed", f"must list field names, got {unconfirmed!r}")
    try:
        return Instrument(
            symbol=symbol,
            base=base,
            quote=quote,
            tick_size=tick,
            lot_size=Decimal(1).scaleb(-lot_decimals),
            min_quantity=_decimal(path, f"{symbol}.ordermin", body["ordermin"]),
            min_cost=_decimal(path, f"{symbol}.costmin", body["costmin"]),
            fees=fees[schedule_name],
            kind=InstrumentKind.SPOT,
            venue="kraken",
            # Tags let callers see which facts the snapshot could not confirm.
            tags=frozenset(f"unconfirmed:{f}" for f in unconfirmed),
        )
    except ValueError as exc:
        raise _fail(path, symbol, str(exc)) from None


def load_instrument_snapshot(path: Path | None = None) -> dict[str, Instrument]:
    """Instruments keyed by Kraken altname (``XBTUSD``); ``path`` defaults to the shipped file.

    Fails closed with SnapshotError on any unknown or missing field, non-decimal string or
    inconsistent fact, naming the symbol and field. Callers must not treat these values as
    current: they are dated by ``SNAPSHOT_AS_OF``.
    """
    path = Path(path) if path is not None else shipped_snapshot_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path.name}: not valid JSON: {exc}") from None
    top = _check_keys(path, "snapshot", raw, _TOP, set())
    try:
        date.fromisoformat(_text(path, "as_of", top["as_of"]))
    except ValueError:
        raise _fail(path, "as_of", f"must be a YYYY-MM-DD date, got {top['as_of']!r}") from None
    if top["venue"] != "kraken":
        raise _fail(path, "venue", f"must be kraken, got {top['venue']!r}")
    schedules = top["fee_schedules"]
    if not isinstance(schedules, dict) or not schedules:
        raise _fail(path, "fee_schedules", "must be a non-empty object")
    fees = {name: _schedule(path, name, body) for name, body in schedules.items()}
    instruments = top["instruments"]
    if not isinstance(instruments, dict) or not instruments:
        raise _fail(path, "instruments", "must be a non-empty object")
    return {symbol: _instrument(path, symbol, body, fees) for symbol, body in instruments.items()}
