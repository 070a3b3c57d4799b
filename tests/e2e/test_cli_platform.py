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
from typer.testing import CliRunner

from aether.cli import app as cli_app
from tests.support.cli import aether, aether_env, init_company
from tests.support.network import free_port

pytestmark = pytest.mark.e2e


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
    port, emulator = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    # How fast `up --detach` is ready is measured by benchmarks/platform_startup.py, not here.
    env = aether_env(AETHER_EMULATOR_PORT=str(emulator))
    up = aether("up", "--detach", "--data-dir", str(data), "--port", str(port), env=env)
    pids: list[int] = []
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "NOT FOR PRODUCTION" in up.stderr
        assert httpx.get(f"{base}/readyz").status_code == 200
        kraken = httpx.get(f"http://127.0.0.1:{emulator}/0/public/Time").json()
        assert kraken["error"] == []  # the local profile's venue: the Kraken emulator

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

        created = init_company(data, "Acme Ltd")
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

        users = aether(
            "users",
            "create",
            "fay",
            "--grant",
            f"{created['accounts'][1]['id']}=viewer",
            "--data-dir",
            str(data),
        )
        assert users.returncode == 0, users.stderr
        fay_key = aether("keys", "create", "--user", "fay", "--json", "--data-dir", str(data))
        fay = json.loads(fay_key.stdout)
        assert fay["scopes"] == ["read"]
        fay_headers = {"Authorization": f"Bearer {fay['api_key']}"}
        seen = httpx.get(f"{base}/api/v1/accounts", headers=fay_headers).json()
        assert [a["name"] for a in seen] == ["Dana"]
        revoke = aether("keys", "revoke", fay["id"], "--data-dir", str(data))
        assert revoke.returncode == 0, revoke.stderr
        assert httpx.get(f"{base}/api/v1/accounts", headers=fay_headers).status_code == 401

        listed_cli = aether("accounts", "list", "--json", "--data-dir", str(data))
        assert sorted(a["name"] for a in json.loads(listed_cli.stdout)) == [
            "Acme Ltd",
            "Dana",
            "Eli",
        ]

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
    result = aether("up", "--data-dir", str(tmp_path), env=aether_env(AETHER_PROFILE="production"))
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
    # The real entry point once; every command's help in-process (a subprocess each cost
    # 18 s of CI for what one process shows: each lazily imported module loads and parses).
    result = aether("--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout
    runner = CliRunner()
    for args in (
        ["up"],
        ["down"],
        ["status"],
        ["db", "upgrade"],
        ["db", "current"],
        ["accounts", "init"],
        ["accounts", "list"],
        ["accounts", "mode"],
        ["runner"],
        ["keys", "create"],
        ["keys", "revoke"],
        ["audit", "verify"],
        ["vault", "rotate-kek"],
        ["users", "create"],
        ["backtest"],
        ["emulator"],
        ["data", "import", "kraken-csv"],
        ["version"],
    ):
        answer = runner.invoke(cli_app, [*args, "--help"])
        assert answer.exit_code == 0, (args, answer.output)
        assert "Usage" in answer.output, args


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_foreground_up_stops_everything_on_signal(aether_stack_dir: Path, signum: int) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aether.cli",
            "up",
            "--data-dir",
            str(aether_stack_dir),
            "--port",
            str(port),
        ],
        env=aether_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        code, _, _ = _wait_status(f"http://127.0.0.1:{port}/readyz", 200, within=30)
        assert code == 200
        report = json.loads(aether("status", "--json", "--data-dir", str(aether_stack_dir)).stdout)
        pids = [report["api"]["pid"], *(s["pid"] for s in report["servers"])]
        assert all(pids)
        proc.send_signal(signum)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "stopping embedded servers" in output
    assert all(_gone(p) for p in pids)
    after = json.loads(aether("status", "--json", "--data-dir", str(aether_stack_dir)).stdout)
    assert after["api"]["running"] is False
    assert not any(s["running"] for s in after["servers"])


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("detach", [False, True])
def test_up_names_a_server_that_cannot_start_and_its_log(
    aether_stack_dir: Path, detach: bool
) -> None:
    from aether.ops.localstack import LocalStack

    stack = LocalStack(aether_stack_dir)
    nats_port = stack.server("nats").port  # fixes the ports before the CLI runs
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", nats_port))
        blocker.listen()
        args = ["up", "--data-dir", str(aether_stack_dir), "--port", str(free_port())]
        result = aether(*args, *(["--detach"] if detach else []))
    assert result.returncode == 1
    assert "nats" in result.stderr
    assert str(aether_stack_dir / "nats" / "nats.log") in result.stderr.replace("\n", "")
    assert not any(s.running for s in stack.status())


def test_external_urls_replace_embedded_servers(
    aether_stack_dir: Path, aether_server_urls: object
) -> None:
    urls = aether_server_urls
    port = free_port()
    env = aether_env(AETHER_REDIS_URL=urls.redis_url, AETHER_NATS_URL=urls.nats_url)  # type: ignore[attr-defined]
    up = aether("up", "--detach", "--data-dir", str(aether_stack_dir), "--port", str(port), env=env)
    try:
        assert up.returncode == 0, up.stderr
        report = json.loads(aether("status", "--json", "--data-dir", str(aether_stack_dir)).stdout)
        running = {s["name"]: s["running"] for s in report["servers"]}
        assert running == {"postgres": True, "nats": False, "redis": False}
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
    finally:
        assert aether("down", "--data-dir", str(aether_stack_dir), env=env).returncode == 0


def test_up_names_the_emulator_when_its_port_is_taken(aether_stack_dir: Path) -> None:
    from aether.ops.localstack import LocalStack

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        env = aether_env(AETHER_EMULATOR_PORT=str(taken))
        args = ["up", "--data-dir", str(aether_stack_dir), "--port", str(free_port())]
        result = aether(*args, env=env)
    assert result.returncode == 1
    assert f"Kraken emulator could not listen on http://127.0.0.1:{taken}" in result.stderr
    assert not any(s.running for s in LocalStack(aether_stack_dir).status())
