"""The README's trading steps on ``aether up``: three accounts of ``accounts init`` with a
strategy each, one of them switched to live on the emulator, trade on their own; their
positions and PnL are in the API within a minute."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.cli import aether, aether_env, init_company
from tests.support.network import free_port

pytestmark = pytest.mark.e2e

STRATEGY = {
    "name": "sma_cross",
    "params": {"fast": 2, "slow": 3},
    "pairs": ["XBTUSD", "ETHUSD"],
    "bar_seconds": 5,
}


def _go_live(api: httpx.Client, account: str, emulator: str) -> None:
    kraken = httpx.post(f"{emulator}/emulator/accounts", json={"balances": {"USD": "100000"}})
    stored = api.put(f"/api/v1/accounts/{account}/credentials", json=kraken.json())
    assert stored.status_code == 200, stored.text
    ask = {"mode": "live", "reason": "e2e"}
    step = api.post(f"/api/v1/accounts/{account}/mode", json=ask)
    assert step.status_code == 202, step.text
    confirm = {**ask, "confirmation_token": step.json()["confirmation_token"]}
    switched = api.post(f"/api/v1/accounts/{account}/mode", json=confirm)
    assert switched.status_code == 200, switched.text


def _positioned(api: httpx.Client, account: str) -> bool:
    lines = api.get(f"/api/v1/accounts/{account}/positions").json()["positions"]
    return any(line["quantity"] != "0" for line in lines)


def test_three_accounts_trade_on_their_own_within_a_minute(aether_stack_dir: Path) -> None:
    data = aether_stack_dir
    port, emulator_port = free_port(), free_port()
    emulator = f"http://127.0.0.1:{emulator_port}"
    env = aether_env(AETHER_EMULATOR_PORT=str(emulator_port))
    up = aether("up", "--detach", "--data-dir", str(data), "--port", str(port), env=env)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        created = init_company(data, "Acme Ltd", env=env)
        headers = {"Authorization": f"Bearer {created['api_key']}"}
        accounts = [a["id"] for a in created["accounts"]]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as api:
            for account in accounts:
                patch = {"strategy": STRATEGY, "risk": {"max_order_notional_usd": "2000"}}
                configured = api.patch(f"/api/v1/accounts/{account}/config", json=patch)
                assert configured.status_code == 200, configured.text
            _go_live(api, accounts[0], emulator)
            started = time.monotonic()
            waiting = set(accounts)
            while waiting and time.monotonic() - started < 60:
                waiting -= {a for a in waiting if _positioned(api, a)}
                time.sleep(1)
            assert not waiting, f"no position after 60 s: {waiting}"
            modes = {a["id"]: a["mode"] for a in api.get("/api/v1/accounts").json()}
            assert sorted(modes.values()) == ["live", "paper", "paper"]
            for account in accounts:
                pnl = api.get(f"/api/v1/accounts/{account}/pnl").json()
                assert pnl["fees"] != "0", pnl  # it traded: fees were paid
                assert pnl["equity"] is not None, pnl
    finally:
        assert aether("down", "--data-dir", str(data)).returncode == 0
