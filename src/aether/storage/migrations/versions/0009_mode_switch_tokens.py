"""Mode-switch confirmations: short-lived, single-use tokens for switching an account
between paper and live.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Only a token's SHA-256 is stored, bound to the account, the target mode and the actor who
asked for it. The run-time role issues tokens (INSERT) and spends them (UPDATE of
``used_at``); rows are kept as the record of every request, never deleted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from aether.storage.migrations.privileges import grant, require_app_role

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

#: Tokens are issued and spent (UPDATE sets used_at); never deleted.
APP_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "mode_switch_tokens": ("SELECT", "INSERT", "UPDATE"),
}


def upgrade() -> None:
    require_app_role()
    op.create_table(
        "mode_switch_tokens",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("target_mode", sa.String(8), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_mode_switch_tokens"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_mode_switch_tokens_account_id_accounts"
        ),
        sa.UniqueConstraint("token_hash", name="uq_mode_switch_tokens_token_hash"),
        sa.CheckConstraint(
            "target_mode IN ('paper','live')", name="ck_mode_switch_tokens_target_mode"
        ),
        sa.CheckConstraint("expires_at > created_at", name="ck_mode_switch_tokens_expires_at"),
    )
    op.create_index("ix_mode_switch_tokens_account_id", "mode_switch_tokens", ["account_id"])
    for table, privileges in APP_PRIVILEGES.items():
        grant(table, *privileges)


def downgrade() -> None:
    op.drop_table("mode_switch_tokens")
