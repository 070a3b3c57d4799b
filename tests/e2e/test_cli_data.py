"""``aether data`` as an operator runs it: imports, re-runs that add nothing, clear errors."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aether.marketdata.shipped import shipped_data
from tests.integration.emulator.conftest import Emulator
from tests.support.cli import aether, aether_env
from tests.support.coingecko_server import serve_coingecko

pytestmark = pytest.mark.e2e

SLICE = shipped_data("kraken_XBTUSD_60.csv")


def data(db_url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return aether("data", *args, env=aether_env(AETHER_DATABASE_URL=db_url, **env))


def report(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_kraken_csv_import_then_a_rerun_adds_nothing(aether_db_url: str) -> None:
    first = report(
        data(aether_db_url, "import", "kraken-csv", str(SLICE), "--pair", "XBTUSD", "--json")
    )
    assert first["added"] == {"candles": 17541, "market_gaps": 1}
    assert first["gaps_found"] == 1
    assert (first["from"], first["to"]) == ("2018-10-01T00:00:00Z", "2020-10-01T00:00:00Z")
    # Any common spelling names the pair: the rerun is of the same XBTUSD candles.
    again = data(aether_db_url, "import", "kraken-csv", str(SLICE), "--pair", "btc/usd")
    assert again.returncode == 0, again.stderr
    assert "candles added" in again.stdout
    assert "gaps found" in again.stdout
    assert "1 (0 new)" in again.stdout


def test_bad_files_and_pairs_are_refused_by_name(aether_db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "XBTUSD_60.csv"
    bad.write_text(
        "1577836800,7200.1,7210.0,7190.0,7205.5,1.5,10\n"
        "1577840400,7205.5,7220.0,7200.0,7210.0,2,12\n"
        "1577844000,7210.0,7215.0,oops,7212.0,1,3\n"
    )
    result = data(aether_db_url, "import", "kraken-csv", str(bad), "--pair", "XBTUSD")
    assert result.returncode == 1
    assert f"{bad}:3:" in result.stderr
    assert "nothing was stored" in result.stderr
    result = data(aether_db_url, "import", "kraken-csv", str(SLICE), "--pair", "ETH/BTC")
    assert result.returncode == 1
    assert "'ETH/BTC' is not a USD pair" in result.stderr
    assert "XDGUSD" in result.stderr  # the known pairs are listed
    result = data(aether_db_url, "backfill", "--pair", "ETH/USD")  # accepted, as ETHUSD
    assert result.returncode == 1
    assert "pass --since" in result.stderr


def test_coingecko_import_and_rerun(aether_db_url: str) -> None:
    with serve_coingecko() as server:
        env = {"AETHER_COINGECKO_BASE_URL": server.url, "AETHER_COINGECKO_API_KEY": "cg-secret"}
        args = ("import", "coingecko", "--coin", "bitcoin", "--since", "2026-01-01",
                "--until", "2026-01-03", "--json")  # fmt: skip
        first = report(data(aether_db_url, *args, **env))
        second = report(data(aether_db_url, *args, **env))
    assert first["added"]["reference_prices"] == 48
    assert second["rows_added"] == 0
    assert server.requests[0]["api_key"] == "cg-secret"


def test_backfill_two_pairs_from_the_emulator_then_resume(
    aether_db_url: str, emulator: Emulator
) -> None:
    since = datetime.fromtimestamp(int(time.time()) - 1, UTC).isoformat()
    time.sleep(2)
    env = {"AETHER_KRAKEN_REST_URL": emulator.url}
    args = ("backfill", "--pair", "XBTUSD", "--pair", "ETHUSD", "--since", since,
            "--interval", "1", "--page-size", "20", "--json")  # fmt: skip
    first = report(data(aether_db_url, *args, **env))
    assert first["errors"] == {}
    assert [r["subject"] for r in first["reports"]] == ["XBTUSD", "ETHUSD"]
    for pair in first["reports"]:
        assert pair["added"]["market_trades"] > 20  # more than one page
        assert pair["added"]["market_trades"] == pair["rows_read"]
    second = report(data(aether_db_url, *args, **env))
    for pair in second["reports"]:
        assert pair["resumed_from"] is not None  # continued from the saved cursor
