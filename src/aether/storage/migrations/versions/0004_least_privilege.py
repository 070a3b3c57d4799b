"""Least privilege for the run-time role, and an audit chain keyed from genesis.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Migrations run as the owner role; the platform runs as a separate role (``app_role`` of the
migration context, ``AETHER_DATABASE_APP_ROLE``) that gets per table only what it does with
the table: ``INSERT`` and ``SELECT`` on ``audit_log``, never ``UPDATE``, ``DELETE`` or
``TRUNCATE``. Functions no longer default to ``EXECUTE`` for everyone.

From this revision on, every audit row's hash is an HMAC under a key the database never sees.
The key cannot be applied to rows written before (they cannot be rewritten, and the key is
not here), so the chain is keyed from genesis: this migration refuses a database whose
``audit_log`` already holds rows. Such a database predates any release; start a new one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from aether.storage.migrations.privileges import grant, require_app_role
from aether.storage.roles import quoted

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: What the platform does with each table, and so all the run-time role may do.
APP_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "alembic_version": ("SELECT",),  # `aether db current`
    "accounts": ("SELECT", "INSERT", "UPDATE"),
    "users": ("SELECT", "INSERT", "UPDATE"),
    "user_account_grants": ("SELECT", "INSERT", "UPDATE"),
    "api_keys": ("SELECT", "INSERT", "UPDATE"),
    "audit_log": ("SELECT", "INSERT"),
    "ops_heartbeat": ("SELECT", "INSERT", "UPDATE"),
    "instruments": ("SELECT", "INSERT", "UPDATE"),
    "instrument_refreshes": ("SELECT", "INSERT"),
    "market_subscriptions": ("SELECT", "INSERT", "UPDATE", "DELETE"),
    "market_trades": ("SELECT", "INSERT"),
    "candles": ("SELECT", "INSERT", "UPDATE"),
    "reference_prices": ("SELECT", "INSERT"),
    "market_gaps": ("SELECT", "INSERT", "UPDATE"),
    # DELETE: an operator restarts an import by deleting its cursor (the error says so).
    "import_progress": ("SELECT", "INSERT", "UPDATE", "DELETE"),
}


def upgrade() -> None:
    written = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_log")).scalar()
    if written:
        raise RuntimeError(
            f"audit_log holds {written} rows hashed without a key; revision 0004 keys the chain "
            "with an HMAC from genesis and cannot re-key existing rows (the key never reaches "
            "the database): keep a dump of this database and migrate a new one"
        )
    role = require_app_role()
    # The trigger function runs for the table owner's statements only; nobody calls it.
    op.execute("REVOKE EXECUTE ON FUNCTION audit_log_refuse_change() FROM PUBLIC")
    op.execute("ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted(role)}")
    for table, privileges in APP_PRIVILEGES.items():
        grant(table, *privileges)


def downgrade() -> None:
    role = require_app_role()
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted(role)}")
    op.execute("ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC")
    op.execute("GRANT EXECUTE ON FUNCTION audit_log_refuse_change() TO PUBLIC")
