"""``aether emulator`` as a user runs it: serve, create an account, sign a call, stop."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import httpx

from tests.integration.emulator.conftest import Kraken
from tests.support.cli import aether
from tests.support.network import free_port


def test_serve_create_an_account_and_stop_cleanly() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aether.cli",
            "emulator",
            "--port",
            str(port),
            "--market",
            "synthetic",
            "--seed",
            "3",
            "--speed",
            "600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.communicate()
            try:
                if httpx.get(f"{url}/0/public/Time", timeout=1).json()["error"] == []:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the emulator did not answer /0/public/Time"
            time.sleep(0.1)

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
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=20)
    assert server.returncode == 0, err
    assert "Kraken emulator on" in out


def test_unreachable_emulator_and_bad_options_fail_clearly() -> None:
    gone = aether("emulator", "accounts", "create", "--balance", "USD=1",
                  "--url", f"http://127.0.0.1:{free_port()}")  # fmt: skip
    assert gone.returncode == 1
    assert "cannot reach" in gone.stderr
    bad = aether("emulator", "--market", "bogus", "--port", str(free_port()))
    assert bad.returncode == 1
    assert "--market" in bad.stderr
