"""The platform as an operator runs it: `aether up --detach`, init, keys, status, down."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AETHER_")}
    env.update(extra)
    return env


def aether(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aether.cli", *args],
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _wait_status(url: str, status: int, within: float) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    while True:
        try:
            response = httpx.get(url, timeout=3)
            code, body = response.status_code, response.json()
        except httpx.HTTPError:
            code, body = 0, {}
        elapsed = time.monotonic() - started
        if code == status or elapsed > within:
            return code, body, elapsed
        time.sleep(0.1)


def test_up_detach_ready_freeze_init_down(aether_stack_dir: Path) -> None:
    data = aether_stack_dir
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    up = aether("up", "--detach", "--data-dir", str(data), "--port", str(port))
    took = time.monotonic() - started
    pids: list[int] = []
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert took < 15, f"up --detach took {took:.1f}s"
        assert "NOT FOR PRODUCTION" in up.stderr
        assert httpx.get(f"{base}/readyz").status_code == 200

        status = aether("status", "--json", "--data-dir", str(data))
        report = json.loads(status.stdout)
        assert report["api"]["running"] is True
        servers = {s["name"]: s for s in report["servers"]}
        assert set(servers) == {"postgres", "nats", "redis"}
        assert all(s["running"] and s["pid"] and s["port"] for s in servers.values())
        assert all(Path(s["log_file"]).exists() for s in servers.values())
        pids = [report["api"]["pid"], *(s["pid"] for s in servers.values())]

        # Freeze PostgreSQL: readiness names the database within 5 s, and recovers.
        pg = int(servers["postgres"]["pid"])
        os.kill(pg, signal.SIGSTOP)
        try:
            code, body, elapsed = _wait_status(f"{base}/readyz", 503, within=5)
        finally:
            os.kill(pg, signal.SIGCONT)
        assert code == 503
        assert body["failing"] == ["database"]
        assert elapsed < 5
        assert _wait_status(f"{base}/readyz", 200, within=10)[0] == 200

        init = aether(
            "accounts",
            "init",
            "--json",
            "--data-dir",
            str(data),
            "--company",
            "Acme Ltd",
            "--director",
            "Dana",
            "--director",
            "Eli",
            "--admin",
            "ops",
        )
        assert init.returncode == 0, init.stderr
        created = json.loads(init.stdout)
        headers = {"Authorization": f"Bearer {created['api_key']}"}
        listed = httpx.get(f"{base}/api/v1/accounts", headers=headers).json()
        assert sorted(a["name"] for a in listed) == ["Acme Ltd", "Dana", "Eli"]
        assert sorted(a["id"] for a in listed) == sorted(a["id"] for a in created["accounts"])

        again = aether(
            "accounts",
            "init",
            "--data-dir",
            str(data),
            "--company",
            "X",
            "--director",
            "Y",
            "--director",
            "Z",
            "--admin",
            "w",
        )
        assert again.returncode == 1
        assert "already" in again.stderr

        key = aether("keys", "create", "--user", "ops", "--json", "--data-dir", str(data))
        assert key.returncode == 0, key.stderr
        second = {"Authorization": f"Bearer {json.loads(key.stdout)['api_key']}"}
        assert httpx.get(f"{base}/api/v1/accounts", headers=second).status_code == 200

        verify = aether("audit", "verify", "--data-dir", str(data))
        assert verify.returncode == 0, verify.stderr
        assert "OK" in verify.stdout
        current = aether("db", "current", "--data-dir", str(data))
        assert "up to date" in current.stdout
    finally:
        down = aether("down", "--data-dir", str(data))
    assert down.returncode == 0, down.stderr
    time.sleep(0.2)
    survivors = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert survivors == []

    # A second `up` reuses the data: the accounts are still there.
    up2 = aether("up", "--detach", "--data-dir", str(data), "--port", str(port))
    try:
        assert up2.returncode == 0, up2.stderr
        listed = httpx.get(f"{base}/api/v1/accounts", headers=headers).json()
        assert sorted(a["name"] for a in listed) == ["Acme Ltd", "Dana", "Eli"]
    finally:
        assert aether("down", "--data-dir", str(data)).returncode == 0


def test_production_profile_with_defaults_refuses_and_lists_problems(tmp_path: Path) -> None:
    result = aether("up", "--data-dir", str(tmp_path), env=_env(AETHER_PROFILE="production"))
    assert result.returncode == 2
    for needle in (
        "EMBEDDED_SERVERS",
        "DATABASE_URL",
        "TLS",
        "ENCRYPTION_KEY",
        "ALLOWLIST",
        "VENUE",
    ):
        assert needle in result.stderr
    assert not (tmp_path / "postgres").exists()


def test_commands_fail_clearly_when_the_stack_is_down(tmp_path: Path) -> None:
    result = aether("audit", "verify", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "aether up --detach" in result.stderr


def test_every_command_has_help() -> None:
    for args in (
        [],
        ["up"],
        ["down"],
        ["status"],
        ["db", "upgrade"],
        ["db", "current"],
        ["accounts", "init"],
        ["accounts", "list"],
        ["keys", "create"],
        ["keys", "revoke"],
        ["audit", "verify"],
        ["users", "create"],
        ["version"],
    ):
        result = aether(*args, "--help")
        assert result.returncode == 0, args
        assert "Usage" in result.stdout
