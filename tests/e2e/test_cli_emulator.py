"""``aether emulator`` as a user runs it: serve, create an account, sign a call, stop."""

from __future__ import annotations

import json

import httpx

from tests.integration.emulator.conftest import Kraken
from tests.support.cli import aether, served_emulator
from tests.support.network import free_port


def test_serve_create_an_account_and_stop_cleanly() -> None:
    options = ("--market", "synthetic", "--seed", "3", "--speed", "600")
    with served_emulator(*options) as served:
        url = served.url
        made = aether("emulator", "accounts", "create", "--balance", "USD=10000",
                      "--balance", "XBT=0.5", "--url", url, "--json")  # fmt: skip
        assert made.returncode == 0, made.stderr
        creds = json.loads(made.stdout)
        with httpx.Client(base_url=url, timeout=10) as http:
            client = Kraken(http, creds["api_key"], creds["api_secret"])
            assert client.ok("Balance") == {"ZUSD": "10000.0000", "XXBT": "0.5000000000"}

        human = aether("emulator", "accounts", "create", "--balance", "USD=1", "--url", url)
        assert human.returncode == 0
        assert "api_key:" in human.stdout
        assert "api_secret:" in human.stdout
        refused = aether("emulator", "accounts", "create", "--balance", "FOO=1", "--url", url)
        assert refused.returncode == 1
        assert "unknown asset" in refused.stderr
        malformed = aether("emulator", "accounts", "create", "--balance", "USD", "--url", url)
        assert malformed.returncode == 1
        assert "ASSET=AMOUNT" in malformed.stderr
    assert served.process.returncode == 0, served.err
    assert "Kraken emulator on" in served.out


def test_unreachable_emulator_and_bad_options_fail_clearly() -> None:
    gone = aether("emulator", "accounts", "create", "--balance", "USD=1",
                  "--url", f"http://127.0.0.1:{free_port()}")  # fmt: skip
    assert gone.returncode == 1
    assert "cannot reach" in gone.stderr
    bad = aether("emulator", "--market", "bogus", "--port", str(free_port()))
    assert bad.returncode == 1
    assert "--market" in bad.stderr
