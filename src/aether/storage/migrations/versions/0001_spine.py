"""Platform spine: accounts, users, grants, API keys, append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False, server_default="paper"),
        sa.Column("base_currency", sa.String(8), nullable=False, server_default="USD"),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("config", pg.JSONB, nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('company','director','other')", name="ck_accounts_kind"),
        sa.CheckConstraint("mode IN ('paper','live')", name="ck_accounts_mode"),
        sa.CheckConstraint("status IN ('active','suspended','closed')", name="ck_accounts_status"),
        sa.CheckConstraint("base_currency = 'USD'", name="ck_accounts_base_currency"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_table(
        "users",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("is_platform_admin", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("status IN ('active','disabled')", name="ck_users_status"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "user_account_grants",
        sa.Column(
            "user_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "account_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "role IN ('viewer','trader','admin')", name="ck_user_account_grants_role"
        ),
    )
    op.create_index("ix_user_account_grants_account_id", "user_account_grants", ["account_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("scopes", pg.ARRAY(sa.String(16)), nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", _TS),
        sa.Column("revoked_at", _TS),
        sa.Column("last_used_at", _TS),
        sa.UniqueConstraint("prefix", name="uq_api_keys_prefix"),
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ts", _TS, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True)),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("details", pg.JSONB, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    op.create_index("ix_audit_log_account_id_seq", "audit_log", ["account_id", "seq"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    # The database itself refuses to rewrite history, whoever the client is.
    op.execute(
        """
        CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$;
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()"
    )
    op.create_table(
        "ops_heartbeat",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("at", _TS, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("ops_heartbeat")
    op.execute("DROP TABLE audit_log")
    op.execute("DROP FUNCTION audit_log_refuse_change()")
    op.drop_table("api_keys")
    op.drop_table("user_account_grants")
    op.drop_table("users")
    op.drop_table("accounts")
