"""What migrations grant the platform's run-time role.

Tables get no privilege by default: a migration that adds a table grants the run-time role
exactly what the platform does with it (:func:`grant`), and
``tests/integration/test_migrations.py`` fails on any table whose grants it does not expect.
The role's name comes from the caller (``aether.storage.migrate.upgrade(app_role=...)``,
``AETHER_DATABASE_APP_ROLE``); the role must exist before migrations run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from aether.settings import DEFAULT_DATABASE_APP_ROLE
from aether.storage.roles import quoted

_PRIVILEGES = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})


def app_role() -> str:
    role = context.config.attributes.get("app_role", DEFAULT_DATABASE_APP_ROLE)
    return str(role)


def require_app_role() -> str:
    """The run-time role's name, after checking it exists and is not the migrating role."""
    role = app_role()
    row = (
        op.get_bind()
        .execute(
            sa.text("SELECT current_user, EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role)"),
            {"role": role},
        )
        .one()
    )
    if not row[1]:
        raise RuntimeError(
            f"database role {role!r} (the platform's run-time role) does not exist: create it "
            "first (docs/operations.md, 'Database roles') or set AETHER_DATABASE_APP_ROLE"
        )
    if row[0] == role:
        raise RuntimeError(
            f"migrations run as {role!r}, the run-time role: run them as the owner role "
            "(AETHER_DATABASE_OWNER_URL), which must be a different role"
        )
    return role


def grant(table: str, *privileges: str) -> None:
    """Grant the run-time role ``privileges`` on ``table`` (and nothing else)."""
    unknown = set(privileges) - _PRIVILEGES
    if unknown or not privileges:
        raise ValueError(f"grant {table}: privileges must be some of {sorted(_PRIVILEGES)}")
    op.execute(f"GRANT {', '.join(privileges)} ON TABLE {quoted(table)} TO {quoted(app_role())}")
