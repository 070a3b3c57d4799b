"""The embedded servers: start healthy, report status, reuse data, stop without leftovers."""

from __future__ import annotations

import asyncio
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest
import redis

from aether.ops.localstack import LocalStack, ServerStartError


@pytest.fixture(scope="module")
def stack_dir(aether_scratch: Path) -> Path:
    path = aether_scratch / "local-stack-test"
    path.mkdir(mode=0o711)
    return path


@pytest.fixture(scope="module")
def running(stack_dir: Path) -> Iterator[LocalStack]:
    stack = LocalStack(stack_dir, durable=False)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def _gone(pid: int) -> bool:
    """Dead: not present, or a zombie awaiting its reaper (pg_ctl daemonises the postmaster)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def _touch_all(stack: LocalStack) -> int:
    urls = stack.urls()
    conn = await asyncpg.connect(urls.database_url)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS survives (n int)")
        await conn.execute("INSERT INTO survives VALUES (1)")
        rows = int(await conn.fetchval("SELECT count(*) FROM survives"))
    finally:
        await conn.close()
    client = await nats.connect(urls.nats_url, allow_reconnect=False)
    try:
        await client.jetstream().account_info()
    finally:
        await client.close()
    return rows


def test_all_three_answer_with_their_credentials(running: LocalStack) -> None:
    assert asyncio.run(_touch_all(running)) >= 1
    assert redis.Redis.from_url(running.urls().redis_url).ping()
    # Without the generated password the servers refuse.
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=running.server("redis").port).ping()


def test_status_reports_pids_ports_and_logs(running: LocalStack) -> None:
    report = {s.name: s for s in running.status()}
    assert set(report) == {"postgres", "nats", "redis"}
    for server in report.values():
        assert server.running
        assert server.pid is not None
        assert psutil.pid_exists(server.pid)
        assert server.port is not None
        assert server.log_file.exists()
        assert server.data_dir.is_relative_to(running.data_dir)


def test_credentials_stay_out_of_process_lists_and_state_is_private(running: LocalStack) -> None:
    mode = stat.S_IMODE(running.state_file.stat().st_mode)
    assert mode == 0o600
    urls = running.urls()
    secrets = [
        urls.redis_url.split(":")[2].split("@")[0],
        urls.nats_url.split("//")[1].split("@")[0],
    ]
    for name in ("nats", "redis"):
        pid = running.server(name).pid
        assert pid is not None
        cmdline = " ".join(psutil.Process(pid).cmdline())
        assert all(secret not in cmdline for secret in secrets)
    assert "***" in repr(urls)
    assert secrets[0] not in repr(urls)


def test_servers_bind_to_loopback_only(running: LocalStack) -> None:
    for status in running.status():
        assert status.pid is not None
        proc = psutil.Process(status.pid)
        addresses = {c.laddr.ip for c in proc.net_connections(kind="inet") if c.status == "LISTEN"}
        assert addresses, status.name
        assert addresses <= {"127.0.0.1"}, (status.name, addresses)


def test_start_again_is_a_no_op_while_running(running: LocalStack) -> None:
    before = {s.name: s.pid for s in running.status()}
    LocalStack(running.data_dir, durable=False).start()
    assert {s.name: s.pid for s in running.status()} == before


def test_stop_leaves_nothing_and_restart_reuses_data_and_ports(aether_scratch: Path) -> None:
    data = aether_scratch / "restart-test"
    data.mkdir(mode=0o711)
    stack = LocalStack(data, durable=True)
    stack.start()
    try:
        assert asyncio.run(_touch_all(stack)) == 1
        ports = {s.name: s.port for s in stack.status()}
        pids = [s.pid for s in stack.status()]
        stack.stop()
        assert all(_gone(p) for p in pids if p is not None)
        assert not any(s.running for s in stack.status())
        stack.stop()  # idempotent

        again = LocalStack(data, durable=True)
        again.start()
        assert {s.name: s.port for s in again.status()} == ports
        assert asyncio.run(_touch_all(again)) == 2  # the first row survived
    finally:
        LocalStack(data).stop()


def test_occupied_port_names_the_server_and_its_log(aether_scratch: Path) -> None:
    data = aether_scratch / "busy-port-test"
    data.mkdir(mode=0o711)
    stack = LocalStack(data, durable=False)
    port = stack.server("redis").port
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        with pytest.raises(ServerStartError) as caught:
            stack.start()
    error = caught.value
    assert error.server == "redis"
    assert str(port) in str(error)
    assert str(data / "redis" / "redis.log") in str(error)
    # Servers started by the failed call were stopped again.
    assert not any(s.running for s in stack.status())


def test_status_of_a_never_started_stack(tmp_path: Path) -> None:
    report = LocalStack(tmp_path / "nothing").status()
    assert [s.running for s in report] == [False, False, False]
    assert not (tmp_path / "nothing").exists()
