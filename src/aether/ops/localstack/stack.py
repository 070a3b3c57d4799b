"""The local stack: the three embedded servers under one data directory.

``stack.json`` (mode 0600) keeps the ports and generated credentials chosen on the first
start, so later starts reuse the same data, ports and passwords.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import processes
from aether.ops.localstack.errors import ServerStartError
from aether.ops.localstack.servers import (
    EmbeddedServer,
    NatsServer,
    PostgresServer,
    RedisServer,
)

SERVER_NAMES: tuple[str, ...] = ("postgres", "nats", "redis")


@dataclass(frozen=True, slots=True)
class ServerStatus:
    name: str
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path
    log_file: Path


class LocalStack:
    """Embedded PostgreSQL, NATS and Redis under ``data_dir`` (default ``./.aether``)."""

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        self.data_dir = data_dir.absolute()
        self.durable = durable

    @property
    def state_file(self) -> Path:
        return self.data_dir / "stack.json"

    def _load_state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return None
        return state

    def _state(self) -> dict[str, Any]:
        """The persisted ports and secrets, created on first use."""
        state = self._load_state()
        if state is not None:
            return state
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Traversable (not readable) so the unprivileged PostgreSQL user reaches its folder.
        self.data_dir.chmod(0o711)
        state = {
            "ports": {
                "postgres": processes.free_port(),
                "nats": processes.free_port(),
                "nats_monitor": processes.free_port(),
                "redis": processes.free_port(),
            },
            "secrets": {name: secrets.token_urlsafe(24) for name in SERVER_NAMES},
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.touch(mode=0o600)
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.state_file)
        return state

    def _build(self, name: str, state: dict[str, Any]) -> EmbeddedServer:
        ports, keys = state["ports"], state["secrets"]
        if name == "postgres":
            return PostgresServer(self.data_dir, ports[name], keys[name], durable=self.durable)
        if name == "nats":
            return NatsServer(
                self.data_dir,
                ports[name],
                keys[name],
                durable=self.durable,
                monitor_port=ports["nats_monitor"],
            )
        if name == "redis":
            return RedisServer(self.data_dir, ports[name], keys[name], durable=self.durable)
        raise ValueError(f"unknown server {name!r}; expected one of {', '.join(SERVER_NAMES)}")

    def server(self, name: str) -> EmbeddedServer:
        """The named server (it may or may not be running)."""
        return self._build(name, self._state())

    def start(self, names: Iterable[str] = SERVER_NAMES, timeout: float = 30.0) -> None:
        """Start the named servers together and wait until each is healthy.

        Servers already running are left alone. On any failure, the servers this call started
        are stopped again and the first failure is raised as ServerStartError.
        """
        state = self._state()
        wanted = [self._build(n, state) for n in dict.fromkeys(names)]
        pending = [s for s in wanted if not s.is_running()]
        deadline = time.monotonic() + timeout
        with ThreadPoolExecutor(max_workers=len(pending) or 1) as pool:
            futures = {s.name: pool.submit(s.start, deadline) for s in pending}
        failures = [f.exception() for f in futures.values() if f.exception() is not None]
        if failures:
            for server in pending:
                server.stop(10)
            first = failures[0]
            if isinstance(first, ServerStartError):
                raise first
            name = next(n for n, f in futures.items() if f.exception() is first)
            server = next(s for s in pending if s.name == name)
            raise server.fail(f"{type(first).__name__}: {first}") from first

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every server of this data directory; idempotent, leaves no process behind."""
        state = self._load_state()
        if state is None:
            return
        servers = [self._build(n, state) for n in SERVER_NAMES]
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            for future in [pool.submit(s.stop, timeout) for s in servers]:
                future.result()

    def status(self) -> list[ServerStatus]:
        state = self._load_state()
        result = []
        for name in SERVER_NAMES:
            if state is None:
                folder = self.data_dir / name
                result.append(ServerStatus(name, False, None, None, folder, folder / f"{name}.log"))
                continue
            server = self._build(name, state)
            pid = server.pid
            result.append(
                ServerStatus(name, pid is not None, pid, server.port, server.dir, server.log_file)
            )
        return result

    def urls(self) -> ServerUrls:
        state = self._state()
        return ServerUrls(
            database_url=self._build("postgres", state).url,
            nats_url=self._build("nats", state).url,
            redis_url=self._build("redis", state).url,
        )
