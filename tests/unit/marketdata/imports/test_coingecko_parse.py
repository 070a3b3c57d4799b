"""CoinGecko's market_chart/range body as exact reference prices; windows, gaps."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest

from aether.marketdata.imports.coingecko import check_coin, point_gaps, windows
from aether.marketdata.imports.coingecko_client import MAX_WINDOW_S, parse_market_chart
from aether.marketdata.imports.errors import ImportInputError

NS = 1_000_000_000
BODY = (
    '{"prices":[[1704067241331,42261.0406175669],[1704070842000,42300]],'
    '"market_caps":[[1704067241331,827123456789.123456789]],'
    '"total_volumes":[[1704067241331,1.5e10],[1704070842000,null]]}'
)


def test_numbers_are_exact_decimals_matched_by_timestamp() -> None:
    first, second = parse_market_chart(BODY, "bitcoin")
    assert first.price_usd == Decimal("42261.0406175669")
    assert first.market_cap_usd == Decimal("827123456789.123456789")
    assert first.volume_usd == Decimal("1.5e10")
    assert first.ts_ns == 1704067241331 * 1_000_000
    assert (first.source, first.coin) == ("coingecko", "bitcoin")
    assert second.price_usd == Decimal(42300)
    assert second.market_cap_usd is None
    assert second.volume_usd is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ('{"market_caps": []}', "'prices' is missing"),
        ('{"prices": [[1, 2, 3]]}', r"prices\[0\]"),
        ('{"prices": [["x", 2]]}', "timestamp"),
        ('{"prices": [[1, null]]}', "positive price"),
        ('{"prices": [[1, "12.5"]]}', "not a number"),
        ("[]", "not a JSON object"),
    ],
)
def test_malformed_bodies_are_refused(body: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_market_chart(body, "bitcoin")


def test_windows_keep_each_request_within_hourly_granularity() -> None:
    parts = windows(0, 200 * 86_400)
    assert parts[0] == (0, MAX_WINDOW_S)
    assert parts[-1][1] == 200 * 86_400
    assert all(0 < hi - lo <= 90 * 86_400 for lo, hi in parts)
    assert all(a[1] == b[0] for a, b in pairwise(parts))
    assert windows(5, 5) == []


def test_point_gaps_find_missing_hours_only() -> None:
    hour = 3600 * NS
    stamps = [0, hour + 40 * NS, 2 * hour, 5 * hour]
    (gap,) = point_gaps("bitcoin", stamps, previous_ns=None)
    assert (gap.start_ns, gap.end_ns, gap.kind) == (2 * hour, 5 * hour, "reference")
    assert "3.0 h" in gap.reason
    (lead,) = point_gaps("bitcoin", [3 * hour], previous_ns=0)
    assert lead.start_ns == 0


@pytest.mark.parametrize("coin", ["Bitcoin", "bit coin", "", "../x", "a" * 65])
def test_coin_ids_are_checked(coin: str) -> None:
    with pytest.raises(ImportInputError, match="--coin"):
        check_coin(coin)
