"""The local stack: PostgreSQL, NATS and Redis under one data directory.

``stack.json`` (mode 0600) keeps the ports and generated credentials chosen on the first
start, so later starts reuse the same data, ports and passwords. PostgreSQL has three roles,
each with its own password: the bootstrap superuser, the owner and the run-time role.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import processes
from aether.ops.localstack.errors import ServerStartError, StackStateError
from aether.ops.localstack.postgres import PostgresServer
from aether.ops.localstack.servers import EmbeddedServer, NatsServer, RedisServer

SERVER_NAMES: tuple[str, ...] = ("postgres", "nats", "redis")
_PORT_KEYS = ("postgres", "nats", "nats_monitor", "redis")
#: ``postgres`` is the bootstrap superuser's password; the others those of the database roles.
_SECRET_KEYS = ("postgres", "postgres_owner", "postgres_app", "nats", "redis")
STATE_VERSION = 2


def _check_names(names: Iterable[str]) -> None:
    for name in names:
        if name not in SERVER_NAMES:
            raise ValueError(f"unknown server {name!r}; expected one of {', '.join(SERVER_NAMES)}")


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """One server as found on disk and in the process table; ``port`` is 0 if never assigned."""

    name: str
    running: bool
    pid: int | None
    port: int
    data_dir: Path
    log_file: Path


class OutdatedStateError(ValueError):
    """``stack.json`` of another layout version (1: one superuser role, unkeyed audit chain)."""

    def __init__(self, version: object) -> None:
        self.version = version
        super().__init__(f"layout version {version!r}, expected {STATE_VERSION}")


@dataclass(frozen=True, slots=True)
class StackState:
    """What ``stack.json`` holds: ports by key (``_PORT_KEYS``), secrets by ``_SECRET_KEYS``."""

    ports: dict[str, int]
    secrets: dict[str, str]

    @classmethod
    def new(cls) -> StackState:
        return cls(
            ports=dict(zip(_PORT_KEYS, processes.free_ports(len(_PORT_KEYS)), strict=True)),
            secrets={name: secrets.token_urlsafe(24) for name in _SECRET_KEYS},
        )

    @classmethod
    def parse(cls, raw: Any) -> StackState:
        """Validate the decoded JSON; raises ValueError naming what is wrong."""
        if raw.get("version") != STATE_VERSION:
            raise OutdatedStateError(raw.get("version"))
        ports, keys = raw.get("ports"), raw.get("secrets")
        if not isinstance(ports, dict) or not isinstance(keys, dict):
            raise ValueError("'ports' and 'secrets' must be objects")
        for key in _PORT_KEYS:
            if not isinstance(ports.get(key), int) or not 0 < ports[key] < 65536:
                raise ValueError(f"ports.{key} is not a port number")
        for name in _SECRET_KEYS:
            if not isinstance(keys.get(name), str) or not keys[name]:
                raise ValueError(f"secrets.{name} is missing")
        return cls(
            ports={k: int(ports[k]) for k in _PORT_KEYS},
            secrets={n: str(keys[n]) for n in _SECRET_KEYS},
        )

    def to_json(self) -> str:
        body = {"version": STATE_VERSION, "ports": self.ports, "secrets": self.secrets}
        return json.dumps(body, indent=2)


class LocalStack:
    """Embedded PostgreSQL, NATS and Redis under ``data_dir`` (default ``./.aether``).

    Callers: one process at a time starts or stops a given data directory. ``start`` and
    ``stop`` block (threads inside); call them off the event loop in async code.
    """

    def __init__(self, data_dir: Path = Path(".aether"), *, durable: bool = True) -> None:
        self.data_dir = data_dir.absolute()
        self.durable = durable

    def __repr__(self) -> str:
        return f"LocalStack(data_dir={str(self.data_dir)!r}, durable={self.durable})"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "stack.json"

    def _load_state(self) -> StackState | None:
        try:
            text = self.state_file.read_text()
        except FileNotFoundError:
            return None
        try:
            return StackState.parse(json.loads(text))
        except OutdatedStateError as exc:
            raise StackStateError(
                f"{self.state_file} is of an earlier Aether ({exc}): its database has a single "
                "superuser role and an audit chain without a key, and cannot be upgraded in "
                f"place; stop it (`aether down --data-dir {self.data_dir}`), move "
                f"{self.data_dir} aside and start afresh"
            ) from exc
        except (ValueError, AttributeError) as exc:
            raise StackStateError(
                f"{self.state_file} is not a usable stack state ({exc}); stop any server still "
                "running from this directory and remove the file to start afresh"
            ) from exc

    def _tolerant_state(self) -> StackState | None:
        """The state if usable; stopping and reporting work from pid files alone."""
        try:
            return self._load_state()
        except StackStateError:
            return None

    def _state(self) -> StackState:
        """The persisted ports and secrets, chosen and written on first use."""
        state = self._load_state()
        if state is not None:
            return state
        if not self.data_dir.exists():
            self.data_dir.mkdir(parents=True)
            # Traversable, not listable: the unprivileged PostgreSQL user must reach its folder.
            self.data_dir.chmod(0o711)
        state = StackState.new()
        tmp = self.state_file.with_name(f".{self.state_file.name}.tmp")
        processes.write_private(tmp, state.to_json())
        tmp.replace(self.state_file)
        return state

    def _build(self, name: str, state: StackState | None) -> EmbeddedServer:
        """The named server; with no state (never started) ports are 0 and secrets empty."""
        ports = state.ports if state else dict.fromkeys(_PORT_KEYS, 0)
        secret = state.secrets[name] if state and name in state.secrets else ""
        if name == "postgres":
            keys = state.secrets if state else {}
            return PostgresServer(
                self.data_dir,
                ports[name],
                secret,
                durable=self.durable,
                owner_secret=keys.get("postgres_owner", ""),
                app_secret=keys.get("postgres_app", ""),
            )
        if name == "nats":
            monitor = ports["nats_monitor"]
            return NatsServer(
                self.data_dir, ports[name], secret, durable=self.durable, monitor_port=monitor
            )
        if name == "redis":
            return RedisServer(self.data_dir, ports[name], secret, durable=self.durable)
        _check_names([name])
        raise AssertionError(name)  # unreachable: _check_names raised

    def server(self, name: str) -> EmbeddedServer:
        """The named server, running or not (fixes ports and credentials if not yet chosen)."""
        _check_names([name])
        return self._build(name, self._state())

    def start(self, names: Iterable[str] = SERVER_NAMES, timeout: float = 30.0) -> None:
        """Start the named servers together and wait until each is healthy.

        A server already running is left alone (but must answer its health check). On any
        failure, the servers this call started are stopped again and the first failure (in
        ``names`` order) is raised as ServerStartError.
        """
        wanted = list(dict.fromkeys(names))
        _check_names(wanted)  # before anything starts
        if not wanted:
            return
        deadline = time.monotonic() + timeout
        state = self._state()
        servers = [self._build(name, state) for name in wanted]
        running = {s.name for s in servers if s.is_running()}
        pending = [s for s in servers if s.name not in running]
        with ThreadPoolExecutor(max_workers=len(servers), thread_name_prefix="localstack") as pool:
            futures: dict[str, Future[None]] = {}
            for server in servers:
                if server.name in running:
                    futures[server.name] = pool.submit(
                        server.await_healthy, deadline, started_here=False
                    )
                else:
                    futures[server.name] = pool.submit(server.start, deadline)
        failed = [(s, futures[s.name].exception()) for s in servers]
        failed = [(s, exc) for s, exc in failed if exc is not None]
        if not failed:
            return
        self._stop_all(pending, timeout=10)
        server, first = failed[0]
        if isinstance(first, ServerStartError):
            raise first
        raise server.fail(f"{type(first).__name__}: {first}") from first

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every server of this data directory that runs; idempotent, leaves no process.

        Found by pid file; servers are asked to stop (PostgreSQL with ``pg_ctl stop -m fast``)
        and killed after ``timeout`` seconds.
        """
        if not self.data_dir.exists():
            return
        state = self._tolerant_state()
        self._stop_all([self._build(name, state) for name in SERVER_NAMES], timeout)

    @staticmethod
    def _stop_all(servers: list[EmbeddedServer], timeout: float) -> None:
        if not servers:
            return
        with ThreadPoolExecutor(max_workers=len(servers), thread_name_prefix="localstack") as pool:
            for future in [pool.submit(s.stop, timeout) for s in servers]:
                future.result()

    def status(self) -> list[ServerStatus]:
        """Each server's state, in ``SERVER_NAMES`` order; creates nothing on disk."""
        state = self._tolerant_state()
        report = []
        for name in SERVER_NAMES:
            server = self._build(name, state)
            pid = server.pid
            report.append(
                ServerStatus(name, pid is not None, pid, server.port, server.dir, server.log_file)
            )
        return report

    def postgres(self) -> PostgresServer:
        """The PostgreSQL server with its three roles' URLs (``url``, ``owner_url``,
        ``admin_url``); fixes ports and credentials if not yet chosen."""
        server = self.server("postgres")
        assert isinstance(server, PostgresServer)
        return server

    def urls(self) -> ServerUrls:
        """Run-time connection URLs with the generated credentials (``repr`` masks them); the
        database URL is the run-time role's (see :meth:`postgres` for the others)."""
        state = self._state()
        return ServerUrls(
            database_url=self._build("postgres", state).url,
            nats_url=self._build("nats", state).url,
            redis_url=self._build("redis", state).url,
        )
