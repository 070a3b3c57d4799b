"""Where the platform's servers are: external URLs from the settings, else the local stack's.

Never a substitute: a server with no URL and no embedded stack is an error naming the
setting to give.
"""

from __future__ import annotations

from pydantic import SecretStr

from aether.ops.endpoints import ServerUrls
from aether.ops.localstack import LocalStack
from aether.platform.errors import PlatformError
from aether.settings import Profile, Settings


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
        "database_url": reveal(settings.database_url),
        "nats_url": reveal(settings.nats_url),
        "redis_url": reveal(settings.redis_url),
    }
    if missing:
        assert stack is not None
        embedded = stack.urls()
        for key, value in external.items():
            external[key] = value or getattr(embedded, key)
    return ServerUrls(**{k: str(v) for k, v in external.items()})


def reveal(url: SecretStr | None) -> str | None:
    """The URL a secret setting holds, or None when it is not set."""
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


def running_urls(settings: Settings) -> ServerUrls:
    """The servers of a running platform (the settings' URLs, else the running local
    stack's), for a process that joins it (``aether runner``)."""
    needed = embedded_needed(settings)
    if not needed:
        return resolve_urls(settings, None)
    stack = LocalStack(settings.data_dir)
    running = {s.name for s in stack.status() if s.running}
    missing = [name for name in needed if name not in running]
    if missing:
        raise PlatformError(
            f"{', '.join(missing)} of the local stack in {settings.data_dir} not running: "
            "start it with `aether up --detach`, or set the servers' URLs"
        )
    return resolve_urls(settings, stack)
