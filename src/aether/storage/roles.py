"""Database roles: the owner that runs migrations, the least-privileged run-time role, and the
start-up check that the platform does not connect as more than the latter.

The run-time role holds only what migrations grant it per table (``INSERT`` and ``SELECT`` on
``audit_log``); it is no superuser, owns nothing, cannot bypass row-level security, create
roles or databases, or create objects, so it can neither switch triggers off
(``session_replication_role``, ``ALTER TABLE ... DISABLE TRIGGER``) nor rewrite, truncate or
drop the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

import asyncpg

from aether.settings import DEFAULT_DATABASE_APP_ROLE

#: The local stack's roles: the owner of the database and its objects, and the run-time login.
OWNER_ROLE = "aether_owner"
APP_ROLE = DEFAULT_DATABASE_APP_ROLE

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_NO_PRIVILEGES = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"


def quoted(name: str) -> str:
    """``name`` as a quoted SQL identifier; only plain lower-case names are accepted."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain role or table name: {name!r}")
    return f'"{name}"'


def scram_verifier(password: str, *, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of ``password`` (RFC 5802/7677).

    ``CREATE ROLE ... PASSWORD '<verifier>'`` sets the password without the clear text ever
    reaching the server, so it can show up in no server log.
    """
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


async def ensure_login_role(conn: asyncpg.Connection, name: str, password: str) -> None:
    """Create ``name`` (or reset it) as a login role with no special attribute.

    ``conn`` must be allowed to manage roles (the bootstrap superuser of a local server).
    """
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name)
    verb = "ALTER" if exists else "CREATE"
    await conn.execute(
        f"{verb} ROLE {quoted(name)} LOGIN {_NO_PRIVILEGES} PASSWORD '{scram_verifier(password)}'"
    )


async def runtime_role_problems(conn: asyncpg.Connection) -> list[str]:
    """Why the role ``conn`` is logged in as is unfit to run the platform (empty when fit)."""
    role = await conn.fetchrow(
        "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = current_user"
    )
    name = role["rolname"]
    problems = [
        f"database role {name!r} {what}"
        for column, what in (
            ("rolsuper", "is a superuser"),
            ("rolcreaterole", "can create roles"),
            ("rolcreatedb", "can create databases"),
            ("rolreplication", "can start replication"),
            ("rolbypassrls", "bypasses row-level security"),
        )
        if role[column]
    ]
    owned = await conn.fetch(
        "SELECT tablename, tableowner FROM pg_tables "
        "WHERE schemaname = ANY (current_schemas(false)) "
        "AND pg_has_role(current_user, tableowner, 'MEMBER') ORDER BY tablename"
    )
    if owned:
        tables = ", ".join(r["tablename"] for r in owned)
        problems.append(f"database role {name!r} owns (or may act as the owner of) {tables}")
    if await conn.fetchval("SELECT has_schema_privilege(current_schema(), 'CREATE')"):
        problems.append(f"database role {name!r} may create objects in the schema")
    if await conn.fetchval("SELECT to_regclass('audit_log')") is None:
        problems.append("the audit_log table is missing")
        return problems
    rewrite = await conn.fetch(
        "SELECT p FROM unnest(ARRAY['UPDATE','DELETE','TRUNCATE']) AS p "
        "WHERE has_table_privilege('audit_log', p)"
    )
    if rewrite:
        granted = ", ".join(r["p"] for r in rewrite)
        problems.append(f"database role {name!r} holds {granted} on audit_log")
    return problems


async def check_runtime_role(url: str, timeout: float = 10.0) -> list[str]:
    """:func:`runtime_role_problems` of the role ``url`` logs in as."""
    conn = await asyncpg.connect(url, timeout=timeout)
    try:
        return await runtime_role_problems(conn)
    finally:
        await conn.close()
