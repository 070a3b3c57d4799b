"""``aether emulator --followers --rho``: the synthetic pairs a user picks are the ones traded,
and bad choices fail naming the option."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.cli import aether, aether_env, served_emulator
from tests.support.network import free_port


def test_chosen_followers_are_traded() -> None:
    with served_emulator("--followers", "dotusd, LINKUSD", "--rho", "0.5") as served:
        ticker = httpx.get(f"{served.url}/0/public/Ticker", timeout=10).json()
        assert ticker["error"] == [], ticker
        assert set(ticker["result"]) == {"XXBTZUSD", "XETHZUSD", "DOTUSD", "LINKUSD"}
    assert served.process.returncode == 0, served.err
    assert "pairs XBTUSD, ETHUSD, DOTUSD, LINKUSD" in served.out


def test_bad_followers_and_rho_fail_naming_the_option() -> None:
    unknown = aether("emulator", "--followers", "BNBUSD", "--port", str(free_port()))
    assert unknown.returncode == 1
    assert "--followers" in unknown.stderr
    assert "BNBUSD" in unknown.stderr
    rho = aether("emulator", "--rho", "1.5", "--port", str(free_port()))
    assert rho.returncode == 1
    assert "--rho" in rho.stderr


def test_up_refuses_an_unknown_follower_before_starting_anything(tmp_path: Path) -> None:
    env = aether_env(AETHER_EMULATOR_FOLLOWERS="BNBUSD", AETHER_EMULATOR_CORRELATION="0.5")
    refused = aether("up", "--data-dir", str(tmp_path / "data"), env=env)
    assert refused.returncode == 2, refused.stderr
    assert "AETHER_EMULATOR_FOLLOWERS" in refused.stderr
    assert "BNBUSD" in refused.stderr
    # Nothing was started: no local stack was recorded.
    assert not list(tmp_path.rglob("stack.json"))
