"""Readiness checks: one honest probe per dependency, each bounded by a timeout.

Every probe opens its own short-lived connection, so a frozen server can only time out
that probe and never wedges a pool the rest of the process relies on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import nats
import redis.asyncio as aioredis

from aether.ops.endpoints import ServerUrls
from aether.ops.logs import redact_text


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    seconds: float


async def check_database(url: str, timeout: float) -> str:
    """Read and write: SELECT, then upsert a heartbeat row (proves the schema is migrated)."""
    conn = await asyncpg.connect(url, timeout=timeout)
    try:
        await conn.fetchval("SELECT 1")
        await conn.execute(
            "INSERT INTO ops_heartbeat (name, at) VALUES ('readyz', now()) "
            "ON CONFLICT (name) DO UPDATE SET at = excluded.at"
        )
    finally:
        conn.terminate()
    return "read and write ok"


#: The triggers that make the database itself refuse to rewrite audit history.
AUDIT_TRIGGERS = ("audit_log_no_update_delete", "audit_log_no_truncate")


async def check_audit_log(url: str, timeout: float) -> str:
    """The audit log can take entries: its table exists and its refuse-change triggers are in
    place and enabled (dropping the trigger function drops them too)."""
    conn = await asyncpg.connect(url, timeout=timeout)
    try:
        if await conn.fetchval("SELECT to_regclass('audit_log')") is None:
            raise RuntimeError("table audit_log is missing")
        enabled = {
            row["tgname"]
            for row in await conn.fetch(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
                "AND NOT tgisinternal AND tgenabled <> 'D'"
            )
        }
    finally:
        conn.terminate()
    missing = [name for name in AUDIT_TRIGGERS if name not in enabled]
    if missing:
        raise RuntimeError(f"audit_log trigger(s) missing or disabled: {', '.join(missing)}")
    return "table and append-only triggers in place"


async def check_redis(url: str, timeout: float) -> str:
    client = aioredis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        if not await client.ping():
            raise RuntimeError("PING was not answered with PONG")
    finally:
        await client.aclose()
    return "ping ok"


async def check_nats(url: str, timeout: float) -> str:
    errors: list[BaseException] = []

    async def record(exc: BaseException) -> None:
        errors.append(exc)

    client = await nats.connect(
        url,
        connect_timeout=timeout,
        allow_reconnect=False,
        max_reconnect_attempts=0,
        error_cb=record,
    )
    try:
        info = await client.jetstream().account_info()
    finally:
        await client.close()
    return f"jetstream ok ({info.streams} streams)"


Probe = Callable[[str, float], Awaitable[str]]
#: A component of this process that reports its own readiness (registry, ingest).
LocalProbe = Callable[[], tuple[bool, str]]


async def _run(name: str, probe: Probe, url: str, timeout: float) -> CheckResult:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            detail = await probe(url, timeout)
        ok = True
    except TimeoutError:
        ok, detail = False, f"no answer within {timeout:g}s"
    except Exception as exc:  # any failure of a dependency is reported, never raised
        ok, detail = False, redact_text(f"{type(exc).__name__}: {exc}")[:300]
    return CheckResult(name, ok, detail, time.perf_counter() - started)


async def check_all(urls: ServerUrls, timeout: float) -> list[CheckResult]:
    """Probe database, audit log, Redis and NATS concurrently; never raises.

    ``audit_log`` is reported only while the database answers: an unreachable database is
    one failure (``database``), not two.
    """
    database, audit_log, redis, nats = await asyncio.gather(
        _run("database", check_database, urls.database_url, timeout),
        _run("audit_log", check_audit_log, urls.database_url, timeout),
        _run("redis", check_redis, urls.redis_url, timeout),
        _run("nats", check_nats, urls.nats_url, timeout),
    )
    return [database, *([audit_log] if database.ok else []), redis, nats]


def check_local(name: str, probe: LocalProbe) -> CheckResult:
    """Readiness of an in-process component; a probe that raises is reported as not ready."""
    started = time.perf_counter()
    try:
        ok, detail = probe()
    except Exception as exc:  # reported, never raised
        ok, detail = False, redact_text(f"{type(exc).__name__}: {exc}")[:300]
    return CheckResult(name, ok, detail, time.perf_counter() - started)
