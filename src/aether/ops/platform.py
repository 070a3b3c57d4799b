"""Run the whole platform: servers (embedded or external), migrations, then the API.

Used by ``aether up``/``down``/``status``. A foreground ``up`` owns the embedded servers it
started and stops them on exit; ``--detach`` runs that same foreground process in its own
session and returns once ``/readyz`` answers 200.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import psutil
import structlog
import uvicorn
from pydantic import SecretStr

from aether.audit.keys import AuditKeyError, resolve_audit_key
from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import LocalStack, StackStateError
from aether.ops.logs import configure_logging
from aether.settings import Profile, Settings
from aether.storage.migrate import current_revision, head_revision, upgrade
from aether.storage.roles import APP_ROLE, check_runtime_role

log = structlog.get_logger("aether.platform")


class PlatformError(RuntimeError):
    """The platform cannot start or be reached; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Sidecar:
    """Another ASGI server the foreground platform runs beside the API (the emulator)."""

    name: str
    app: Any
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


class SidecarThread:
    """A sidecar served by uvicorn in a thread of this process (signals stay with the API).

    Tests and benchmarks use it too, to serve an app (the emulator, a stand-in for an
    outside API) on a loopback port.
    """

    def __init__(self, sidecar: Sidecar) -> None:
        self.sidecar = sidecar
        config = uvicorn.Config(
            sidecar.app,
            host=sidecar.host,
            port=sidecar.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,  # an open WebSocket must not hold the stop
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=sidecar.name, daemon=True)

    def start(self, timeout: float = 20.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise PlatformError(
                    f"{self.sidecar.name} could not listen on {self.sidecar.base_url} "
                    "(is the port in use?)"
                )
            time.sleep(0.02)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving and wait for the thread; PlatformError if it is still running (a
        sidecar left ticking in the background would slow everything after it)."""
        self.server.should_exit = True
        self.thread.join(timeout=timeout)
        if self.thread.is_alive():
            raise PlatformError(f"{self.sidecar.name} did not stop within {timeout:g}s")


def embedded_needed(settings: Settings) -> list[str]:
    """Names of the servers to start locally: those with no external URL configured."""
    wanted = {
        "postgres": settings.database_url,
        "nats": settings.nats_url,
        "redis": settings.redis_url,
    }
    return [name for name, url in wanted.items() if url is None]


def resolve_urls(settings: Settings, stack: LocalStack | None) -> ServerUrls:
    """External URLs where set, embedded ones otherwise; never a substitute."""
    missing = embedded_needed(settings)
    if missing and (stack is None or not settings.embedded_servers):
        env = {"postgres": "DATABASE_URL", "nats": "NATS_URL", "redis": "REDIS_URL"}
        names = ", ".join(f"AETHER_{env[m]}" for m in missing)
        raise PlatformError(f"{names} not set and embedded servers are disabled")
    external = {
        "database_url": _reveal(settings.database_url),
        "nats_url": _reveal(settings.nats_url),
        "redis_url": _reveal(settings.redis_url),
    }
    if missing:
        assert stack is not None
        embedded = stack.urls()
        for key, value in external.items():
            external[key] = value or getattr(embedded, key)
    return ServerUrls(**{k: str(v) for k, v in external.items()})


def _reveal(url: SecretStr | None) -> str | None:
    return url.get_secret_value() if url is not None else None


def running_database_url(settings: Settings) -> str:
    """The database URL of a running platform, for CLI commands that only talk to it."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    stack = LocalStack(settings.data_dir)
    if not any(s.name == "postgres" and s.running for s in stack.status()):
        raise PlatformError(
            f"PostgreSQL of the local stack in {settings.data_dir} is not running: start it with "
            "`aether up --detach`, or set AETHER_DATABASE_URL"
        )
    return stack.urls().database_url


def running_database_owner_url(settings: Settings) -> str:
    """The owner role's URL, for ``aether db upgrade``: the setting, else the local stack's
    owner, else (outside production) the run-time URL."""
    if settings.database_owner_url is not None:
        return settings.database_owner_url.get_secret_value()
    if settings.database_url is None:
        running_database_url(settings)  # raises when the local stack's PostgreSQL is down
        return LocalStack(settings.data_dir).postgres().owner_url
    if settings.profile is Profile.PRODUCTION:
        raise PlatformError("AETHER_DATABASE_OWNER_URL is not set: migrations run as the owner")
    return settings.database_url.get_secret_value()


def migration_target(settings: Settings, stack: LocalStack | None) -> tuple[str | None, str]:
    """Who migrates (the owner's URL, None when production leaves it to ``aether db upgrade``)
    and which run-time role the migrations grant to."""
    if settings.database_url is None and stack is not None:
        return stack.postgres().owner_url, APP_ROLE
    if settings.database_owner_url is not None:
        return settings.database_owner_url.get_secret_value(), settings.database_app_role
    if settings.profile is Profile.PRODUCTION:
        return None, settings.database_app_role
    return _reveal(settings.database_url), settings.database_app_role


def prepare_database(
    settings: Settings, stack: LocalStack | None, urls: ServerUrls, say: Callable[[str], None]
) -> None:
    """Migrate as the owner (or, in production without an owner URL, require the newest
    schema), then check the run-time role: production refuses one that is a superuser, owns a
    table or may rewrite the audit log; other profiles log a warning."""
    owner_url, app_role = migration_target(settings, stack)
    if owner_url is not None:
        say("applying database migrations")
        try:
            upgrade(owner_url, app_role=app_role)
        except RuntimeError as exc:  # a migration's own refusal, which says what to do
            raise PlatformError(f"migrations refused: {exc}") from exc
    else:
        revision, head = asyncio.run(current_revision(urls.database_url)), head_revision()
        if revision != head:
            raise PlatformError(
                f"the database is at revision {revision or 'none'}, the newest is {head}: run "
                "`aether db upgrade` with AETHER_DATABASE_OWNER_URL set"
            )
    problems = asyncio.run(check_runtime_role(urls.database_url))
    if not problems:
        return
    if settings.profile is Profile.PRODUCTION:
        raise PlatformError(
            "refusing to start the production profile: "
            + "; ".join(problems)
            + " (the run-time role must hold only what migrations grant it; see "
            "docs/operations.md, 'Database roles')"
        )
    log.warning("the database role has more rights than the platform needs", problems=problems)


@dataclass(frozen=True, slots=True)
class ApiProcess:
    pid: int
    host: str
    port: int

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def api_state_file(data_dir: Path) -> Path:
    return data_dir / "api.json"


def write_api_state(data_dir: Path, api: ApiProcess) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = api_state_file(data_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": api.pid, "host": api.host, "port": api.port}))
    tmp.replace(path)


def read_api_state(data_dir: Path) -> ApiProcess | None:
    """The recorded API process, or None when there is none or it is no longer alive."""
    path = api_state_file(data_dir)
    try:
        raw = json.loads(path.read_text())
        api = ApiProcess(int(raw["pid"]), str(raw["host"]), int(raw["port"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None
    if not psutil.pid_exists(api.pid):
        return None
    return api


def clear_api_state(data_dir: Path) -> None:
    api_state_file(data_dir).unlink(missing_ok=True)


def spawn_detached(args: list[str], log_file: Path) -> subprocess.Popen[bytes]:
    """Start ``aether up`` (foreground mode) as a session leader writing to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "aether.cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=os.environ.copy(),
        )


def wait_ready(base_url: str, child: subprocess.Popen[bytes], timeout: float) -> None:
    """Poll ``/readyz`` until 200; raise PlatformError if the child dies or time runs out."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            code = child.poll()
            if code is not None:
                raise PlatformError(f"the platform exited with status {code} while starting")
            try:
                response = client.get(f"{base_url}/readyz")
                if response.status_code == 200:
                    return
                last = f"/readyz answered {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}"
            time.sleep(0.2)
    raise PlatformError(f"not ready after {timeout:g}s ({last})")


def stop_api(api: ApiProcess, timeout: float = 30.0) -> bool:
    """SIGTERM the foreground ``up`` process and wait; SIGKILL if it will not go. True if it ran."""
    try:
        proc = psutil.Process(api.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except psutil.NoSuchProcess:
        return False
    except psutil.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    return True


class _ShutdownRequested(Exception):
    """SIGTERM arrived; unwinds to run_foreground's cleanup like Ctrl-C does."""


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    raise _ShutdownRequested


def _serve_until_signalled(server: uvicorn.Server) -> None:
    """Run uvicorn until SIGINT or SIGTERM, then return normally.

    uvicorn shuts down gracefully on either signal and then re-raises it. With the default
    SIGTERM disposition that would kill the process before the embedded servers are
    stopped, so SIGTERM is turned into an exception for the duration.
    """
    previous = signal.signal(signal.SIGTERM, _raise_shutdown)
    try:
        server.run()
    except (KeyboardInterrupt, _ShutdownRequested):
        log.info("shutdown signal handled")
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_foreground(
    settings: Settings,
    host: str,
    port: int,
    say: Callable[[str], None],
    sidecars: Sequence[Sidecar] = (),
) -> None:
    """Start what is needed, migrate, and serve the API until SIGINT/SIGTERM; then stop it all.

    ``sidecars`` are served beside the API and stopped with it. Raises ServerStartError
    (naming the server and its log) or PlatformError on failure, after stopping whatever
    this call started.
    """
    settings.check_profile()
    configure_logging(
        level=settings.log_level,
        log_file=settings.log_dir / "aether.log",
        max_bytes=settings.log_file_max_bytes,
        backups=settings.log_file_backups,
    )
    needed = embedded_needed(settings)
    stack = LocalStack(settings.data_dir, durable=True) if needed else None
    running: list[SidecarThread] = []
    try:
        if stack is not None:
            if not settings.embedded_servers:
                resolve_urls(settings, None)  # raises, naming the missing URLs
            say(f"starting embedded {', '.join(needed)} in {settings.data_dir}")
            try:
                stack.start(needed)
            except StackStateError as exc:
                raise PlatformError(str(exc)) from exc
        urls = resolve_urls(settings, stack)
        prepare_database(settings, stack, urls, say)
        try:
            # Outside production the first start creates <data dir>/audit/hmac.key.
            resolve_audit_key(settings, create=settings.profile is not Profile.PRODUCTION)
        except AuditKeyError as exc:
            raise PlatformError(str(exc)) from exc
        for sidecar in sidecars:
            thread = SidecarThread(sidecar)
            thread.start()
            running.append(thread)
            say(f"serving the {sidecar.name} on {sidecar.base_url}")
        # Imported here: CLI commands that only need the database URL import this module,
        # and the API stack would cost them most of a second.
        from aether.api.app import create_app

        app = create_app(settings, urls)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            ssl_certfile=settings.api_tls_certfile,
            ssl_keyfile=settings.api_tls_keyfile,
            timeout_graceful_shutdown=10,
        )
        write_api_state(settings.data_dir, ApiProcess(os.getpid(), host, port))
        say(f"serving the API on {ApiProcess(os.getpid(), host, port).base_url}")
        _serve_until_signalled(uvicorn.Server(config))
        say("shutdown requested")
    finally:
        clear_api_state(settings.data_dir)
        for thread in reversed(running):
            try:
                thread.stop()
            except PlatformError as exc:  # still stop the servers; the thread is a daemon
                say(str(exc))
        if stack is not None:
            say("stopping embedded servers")
            stack.stop()
