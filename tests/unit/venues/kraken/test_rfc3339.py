"""Kraken's timestamps to epoch nanoseconds: the fast path agrees with the general parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aether.venues.kraken.timestamps import rfc3339_ns

NS = 1_000_000_000


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2023-09-25T09:04:31.742599Z", 1695632671 * NS + 742_599_000),
        ("2023-09-25T09:04:31.7Z", 1695632671 * NS + 700_000_000),
        ("2023-09-25T09:04:31.000000001Z", 1695632671 * NS + 1),
        ("2023-09-25T09:04:31Z", 1695632671 * NS),  # no fraction: the general parser
        ("2023-09-25T11:04:31.5+02:00", 1695632671 * NS + 500_000_000),
        ("1970-01-01T00:00:00.000001Z", 1000),
    ],
)
def test_stamps_to_nanoseconds(stamp: str, expected: int) -> None:
    assert rfc3339_ns(stamp) == expected


def test_the_fast_path_matches_datetime_for_every_fraction_length() -> None:
    for digits in range(1, 7):
        fraction = "123456"[:digits]
        stamp = f"2026-11-23T18:40:59.{fraction}Z"
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        whole = int(moment.replace(microsecond=0).timestamp()) * NS
        assert rfc3339_ns(stamp) == whole + moment.microsecond * 1000
    assert datetime(2026, 11, 23, tzinfo=UTC).timestamp() * NS == rfc3339_ns(
        "2026-11-23T00:00:00.0Z"
    )


def test_a_malformed_stamp_is_refused() -> None:
    with pytest.raises(ValueError, match="month"):
        rfc3339_ns("2026-13-01T00:00:00.5Z")
