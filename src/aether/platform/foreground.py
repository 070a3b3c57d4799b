"""A foreground platform: servers (embedded or external), migrations, sidecars, then the API
until a signal; on the way out, everything this run started is stopped."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import uvicorn

from aether.api.app import create_app
from aether.audit.keys import AuditKeyError, resolve_audit_key
from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import LocalStack, StackStateError
from aether.ops.logs import configure_logging
from aether.platform.api_state import ApiProcess, clear_api_state, write_api_state
from aether.platform.errors import PlatformError
from aether.platform.migrations import prepare_database
from aether.platform.runner import RunnerThread
from aether.platform.servers import embedded_needed, resolve_urls
from aether.platform.sidecars import Sidecar, SidecarThread
from aether.platform.signals import serve_until_signalled
from aether.security.kek import KekError, resolve_kek_ring
from aether.settings import Profile, Settings


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
    runner: RunnerThread | None = None
    try:
        if stack is not None:
            _start_embedded(settings, stack, needed, say)
        urls = resolve_urls(settings, stack)
        prepare_database(settings, stack, urls, say)
        try:
            # Outside production the first start creates <data dir>/audit/hmac.key.
            resolve_audit_key(settings, create=settings.profile is not Profile.PRODUCTION)
        except AuditKeyError as exc:
            raise PlatformError(str(exc)) from exc
        try:
            # Likewise <data dir>/vault/kek.key, the credential vault's local KEK.
            resolve_kek_ring(settings, create=settings.profile is not Profile.PRODUCTION)
        except KekError as exc:
            raise PlatformError(str(exc)) from exc
        for sidecar in sidecars:
            thread = SidecarThread(sidecar)
            thread.start()
            running.append(thread)  # stopped below, even when a later start fails
            say(f"serving the {sidecar.name} on {sidecar.base_url}")
        if settings.runner_enabled:
            runner = RunnerThread(settings, urls)
            runner.start()
            say("running the account runner (every active account with a strategy trades)")
        _serve_api(settings, urls, ApiProcess(os.getpid(), host, port), say)
    finally:
        if runner is not None:
            say("stopping the account runner")
            runner.stop()
        _stop(settings, stack, running, say)


def _start_embedded(
    settings: Settings, stack: LocalStack, needed: list[str], say: Callable[[str], None]
) -> None:
    if not settings.embedded_servers:
        resolve_urls(settings, None)  # raises, naming the missing URLs
    say(f"starting embedded {', '.join(needed)} in {settings.data_dir}")
    try:
        stack.start(needed)
    except StackStateError as exc:
        raise PlatformError(str(exc)) from exc


def _serve_api(
    settings: Settings, urls: ServerUrls, api: ApiProcess, say: Callable[[str], None]
) -> None:
    """Serve the API as ``api`` (recorded in the state file) until a signal ends it."""
    config = uvicorn.Config(
        create_app(settings, urls),
        host=api.host,
        port=api.port,
        log_config=None,
        access_log=False,
        ssl_certfile=settings.api_tls_certfile,
        ssl_keyfile=settings.api_tls_keyfile,
        timeout_graceful_shutdown=10,
    )
    write_api_state(settings.data_dir, api)
    say(f"serving the API on {api.base_url}")
    serve_until_signalled(uvicorn.Server(config))
    say("shutdown requested")


def _stop(
    settings: Settings,
    stack: LocalStack | None,
    running: list[SidecarThread],
    say: Callable[[str], None],
) -> None:
    clear_api_state(settings.data_dir)
    for thread in reversed(running):
        try:
            thread.stop()
        except PlatformError as exc:  # still stop the servers; the thread is a daemon
            say(str(exc))
    if stack is not None:
        say("stopping embedded servers")
        stack.stop()
