"""aether.ops.localstack against real servers: healthy start, status, reuse, stop, failures.

PostgreSQL runs as the unprivileged ``postgres`` user when the tests run as root, and that
user cannot traverse pytest's 0700 temporary root: stacks with PostgreSQL live in a 0711
folder (the ``aether_scratch`` fixture) instead; stacks without it use ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import nats
import psutil
import pytest
import redis
import redis.asyncio as aioredis
from nats.errors import Error as NatsError
from redis.backoff import NoBackoff
from redis.retry import Retry

from aether.ops.localstack import LocalStack, ServerStartError, ServerStatus, StackStateError

ALL = ("postgres", "nats", "redis")
PROGRAMS = {"postgres": "postgres", "nats": "nats-server", "redis": "valkey-server"}


@pytest.fixture(scope="module")
def stack(aether_scratch: Path) -> Iterator[LocalStack]:
    """One non-durable stack with all three servers, shared by this module's read-only tests."""
    started = LocalStack(aether_scratch / "shared", durable=False)
    started.start()
    try:
        yield started
    finally:
        started.stop()


def _gone(pid: int) -> bool:
    """Dead: absent, or a zombie its (re)parent has not reaped yet (pg_ctl detaches postgres)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _pids(target: LocalStack) -> dict[str, int]:
    return {s.name: s.pid for s in target.status() if s.pid is not None}


async def _quiet(_: Exception) -> None:
    """nats-py's error callback; the tests look at the raised error instead."""


async def _nats_account_streams(url: str) -> int:
    client = await nats.connect(url, allow_reconnect=False, connect_timeout=5, error_cb=_quiet)
    try:
        info = await client.jetstream().account_info()
        return int(info.streams)
    finally:
        await client.close()


async def _postgres_identity(url: str) -> tuple[str, str, int]:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        row = await conn.fetchrow(
            "SELECT current_database(), current_user, current_setting('server_version_num')::int"
        )
        return str(row[0]), str(row[1]), int(row[2])
    finally:
        await conn.close()


def test_start_makes_all_three_healthy_with_generated_credentials(stack: LocalStack) -> None:
    urls = stack.urls()
    database, user, version = asyncio.run(_postgres_identity(urls.database_url))
    assert (database, user) == ("aether", "aether_app")  # the run-time role, not a superuser
    assert version >= 180000
    assert redis.Redis.from_url(urls.redis_url).ping() is True
    assert asyncio.run(_nats_account_streams(urls.nats_url)) >= 0

    # Without the generated credentials every server refuses.
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=stack.server("redis").port, retry=Retry(NoBackoff(), 0)).ping()
    with pytest.raises(NatsError, match="Authorization Violation"):
        asyncio.run(_nats_account_streams(f"nats://127.0.0.1:{stack.server('nats').port}"))
    wrong = urls.database_url.replace(urls.database_url.split(":")[2].split("@")[0], "wrong")
    with pytest.raises(asyncpg.InvalidPasswordError):
        asyncio.run(_postgres_identity(wrong))


def test_status_reports_pids_ports_and_logs(stack: LocalStack) -> None:
    report = stack.status()
    assert [s.name for s in report] == list(ALL)
    ports = json.loads(stack.state_file.read_text())["ports"]
    for server in report:
        assert isinstance(server, ServerStatus)
        assert server.running
        assert server.pid is not None
        assert PROGRAMS[server.name] in psutil.Process(server.pid).name()
        assert server.port == ports[server.name] == stack.server(server.name).port
        assert server.data_dir == stack.data_dir / server.name
        assert server.log_file == server.data_dir / f"{server.name}.log"
        assert server.log_file.stat().st_size > 0
    assert (stack.data_dir / "postgres" / "data" / "PG_VERSION").exists()
    assert (stack.data_dir / "nats" / "jetstream").is_dir()


def test_servers_listen_on_loopback_only(stack: LocalStack) -> None:
    for server in stack.status():
        assert server.pid is not None
        listening = {
            conn.laddr.ip
            for conn in psutil.Process(server.pid).net_connections(kind="inet")
            if conn.status == psutil.CONN_LISTEN
        }
        assert listening, server.name
        assert listening <= {"127.0.0.1"}, (server.name, listening)


def test_credentials_stay_private(stack: LocalStack) -> None:
    assert stat.S_IMODE(stack.state_file.stat().st_mode) == 0o600
    secrets = json.loads(stack.state_file.read_text())["secrets"]
    assert set(secrets) == {*ALL, "postgres_owner", "postgres_app"}
    assert len(set(secrets.values())) == len(secrets)  # every role its own password
    urls = stack.urls()
    for name, secret in secrets.items():
        server = stack.server(name.split("_")[0])
        assert len(secret) >= 24
        assert secret not in repr(urls)
        assert secret not in repr(server)
        pid = server.pid
        assert pid is not None
        assert secret not in " ".join(psutil.Process(pid).cmdline()), name
        assert secret not in server.log_file.read_text(errors="replace"), name
    assert repr(urls).count("***@") == 3


async def _roles(url: str) -> tuple[str, dict[str, tuple[bool, ...]]]:
    """The owner of database ``aether``, and each role's superuser, createrole, createdb,
    bypassrls and login attributes."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolcanlogin "
            "FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%'"
        )
        owner = await conn.fetchval(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'aether'"
        )
    finally:
        await conn.close()
    return str(owner), {r[0]: tuple(r[1:]) for r in rows}


def test_three_database_roles_and_only_the_bootstrap_one_is_privileged(stack: LocalStack) -> None:
    postgres = stack.postgres()
    owner, roles = asyncio.run(_roles(postgres.admin_url))
    assert owner == "aether_owner"
    assert roles == {
        "postgres": (True, True, True, True, True),
        "aether_owner": (False, False, False, False, True),
        "aether_app": (False, False, False, False, True),
    }
    assert asyncio.run(_postgres_identity(postgres.owner_url))[:2] == ("aether", "aether_owner")


def test_a_stack_of_the_earlier_layout_is_refused_with_what_to_do(tmp_path: Path) -> None:
    data = tmp_path / "old"
    data.mkdir()
    (data / "stack.json").write_text(json.dumps({"version": 1, "ports": {}, "secrets": {}}))
    with pytest.raises(StackStateError, match=r"earlier Aether.*move .* aside"):
        LocalStack(data).start(["redis"])


def test_start_again_leaves_running_servers_alone(stack: LocalStack) -> None:
    before = _pids(stack)
    assert len(before) == 3
    LocalStack(stack.data_dir, durable=False).start()
    assert _pids(stack) == before


async def _write_everything(target: LocalStack) -> None:
    urls = target.urls()
    conn = await asyncpg.connect(target.postgres().owner_url)  # the run-time role creates nothing
    try:
        await conn.execute("CREATE TABLE survives (n int)")
        await conn.execute("INSERT INTO survives VALUES (42)")
    finally:
        await conn.close()
    client = await nats.connect(urls.nats_url, allow_reconnect=False, error_cb=_quiet)
    try:
        js = client.jetstream()
        await js.add_stream(name="SURVIVES", subjects=["survives.>"])
        await js.publish("survives.one", b"1")
    finally:
        await client.close()
    cache = aioredis.Redis.from_url(urls.redis_url)
    try:
        await cache.set("survives", "yes")
    finally:
        await cache.aclose()


async def _read_everything(target: LocalStack) -> tuple[int, int, bytes | None]:
    urls = target.urls()
    conn = await asyncpg.connect(target.postgres().owner_url)
    try:
        row = int(await conn.fetchval("SELECT n FROM survives"))
    finally:
        await conn.close()
    client = await nats.connect(urls.nats_url, allow_reconnect=False, error_cb=_quiet)
    try:
        messages = int((await client.jetstream().stream_info("SURVIVES")).state.messages)
    finally:
        await client.close()
    cache = aioredis.Redis.from_url(urls.redis_url)
    try:
        value = await cache.get("survives")
    finally:
        await cache.aclose()
    return row, messages, value


def test_stop_and_second_start_reuse_data_ports_and_credentials(aether_scratch: Path) -> None:
    data = aether_scratch / "durable"
    first = LocalStack(data, durable=True)
    first.start()
    try:
        asyncio.run(_write_everything(first))
        ports = {s.name: s.port for s in first.status()}
        urls = first.urls()
        pg_version_mtime = (data / "postgres" / "data" / "PG_VERSION").stat().st_mtime_ns
        pids = _pids(first)
        first.stop()
        assert all(_gone(pid) for pid in pids.values())
        assert not any(s.running for s in first.status())
        assert not (data / "nats" / "nats.pid").exists()
        first.stop()  # idempotent: nothing to stop, no error

        second = LocalStack(data, durable=True)
        second.start()
        assert {s.name: s.port for s in second.status()} == ports
        assert second.urls() == urls
        assert (data / "postgres" / "data" / "PG_VERSION").stat().st_mtime_ns == pg_version_mtime
        assert asyncio.run(_read_everything(second)) == (42, 1, b"yes")

        # A frozen server cannot honour a polite stop; stop() must still end it.
        frozen = second.server("postgres").pid
        assert frozen is not None
        os.kill(frozen, signal.SIGSTOP)
        pids = _pids(second)
        second.stop(timeout=5)
        assert all(_gone(pid) for pid in pids.values())
    finally:
        LocalStack(data).stop()


def test_occupied_port_fails_naming_server_and_log_and_stops_the_rest(
    aether_scratch: Path,
) -> None:
    data = aether_scratch / "busy"
    target = LocalStack(data, durable=False)
    port = target.server("redis").port
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        with pytest.raises(ServerStartError) as caught:
            target.start()
    error = caught.value
    assert error.server == "redis"
    assert error.log_file == data / "redis" / "redis.log"
    assert "redis" in str(error)
    assert str(error.log_file) in str(error)
    assert str(port) in str(error)
    # PostgreSQL and NATS did start in that call (their logs say so) and were stopped again.
    assert "ready to accept connections" in (data / "postgres" / "postgres.log").read_text()
    assert not any(s.running for s in target.status())
    # With the port free again the same stack starts on the same port.
    target.start(["redis"])
    try:
        assert target.status()[2].running
        assert target.status()[2].port == port
    finally:
        target.stop()


def test_server_exiting_during_start_up_is_reported_with_its_log(tmp_path: Path) -> None:
    data = tmp_path / "corrupt"
    target = LocalStack(data, durable=True)
    manifest = data / "redis" / "appendonlydir" / "appendonly.aof.manifest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("this is not a manifest\n")
    with pytest.raises(ServerStartError) as caught:
        target.start(["nats", "redis"], timeout=20)
    error = caught.value
    assert error.server == "redis"
    assert "exited during start-up" in str(error)
    assert "manifest" in str(error).lower()  # the log's last line, for a quick diagnosis
    assert str(data / "redis" / "redis.log") in str(error)
    assert not any(s.running for s in target.status())
    assert not (data / "redis" / "redis.pid").exists()


def test_server_running_but_unhealthy_is_not_replaced(tmp_path: Path) -> None:
    target = LocalStack(tmp_path / "frozen", durable=False)
    target.start(["redis"])
    try:
        pid = target.server("redis").pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(ServerStartError, match=f"runs \\(pid {pid}\\)") as caught:
                target.start(["redis"], timeout=1)
            assert caught.value.server == "redis"
            assert target.server("redis").pid == pid  # left alone, not killed or doubled
        finally:
            os.kill(pid, signal.SIGCONT)
        target.start(["redis"])  # healthy again: a no-op
        assert target.server("redis").pid == pid
    finally:
        target.stop()
    assert _gone(pid)


def test_stale_pid_files_count_as_not_running(tmp_path: Path) -> None:
    target = LocalStack(tmp_path / "stale", durable=False)
    assert [s.running for s in target.status()] == [False, False, False]
    assert not target.data_dir.exists()  # status() creates nothing
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        (target.data_dir / "redis").mkdir(parents=True)
        (target.data_dir / "nats").mkdir()
        (target.data_dir / "redis" / "redis.pid").write_text(f"{stranger.pid}\n")
        (target.data_dir / "nats" / "nats.pid").write_text("999999999\n")
        assert not any(s.running for s in target.status())
        target.stop()  # must not signal a process that is not our server
        assert stranger.poll() is None
        target.start(["nats", "redis"])
        assert target.server("redis").pid not in (None, stranger.pid)
    finally:
        target.stop()
        stranger.kill()
        stranger.wait()
    assert not any(s.running for s in target.status())


def test_unknown_server_name_is_refused_before_anything_starts(tmp_path: Path) -> None:
    target = LocalStack(tmp_path / "unknown")
    with pytest.raises(ValueError, match="unknown server 'mysql'"):
        target.start(["redis", "mysql"])
    assert not target.data_dir.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root switches to the postgres user")
def test_data_dir_the_server_user_cannot_reach_fails_naming_the_folder(tmp_path: Path) -> None:
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    data = hidden / "stack"
    ancestors = [*reversed(data.parents)]
    modes = {folder: folder.stat().st_mode for folder in ancestors}
    with pytest.raises(ServerStartError) as caught:
        LocalStack(data).start(["postgres"])
    error = caught.value
    assert error.server == "postgres"
    blocked = [f for f in ancestors if f"{f} is not accessible" in str(error)]
    assert blocked, str(error)
    assert not blocked[0].stat().st_mode & stat.S_IXOTH
    # Parents are never loosened to make it work.
    assert {folder: folder.stat().st_mode for folder in ancestors} == modes
