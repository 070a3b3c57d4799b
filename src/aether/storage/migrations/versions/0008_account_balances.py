"""Account balances: the latest snapshot of each live account's balances at its venue.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

One row per (account, asset), written by reconciliation each time it reads the venue's
balances: upserted, and an asset the venue no longer reports is deleted, so the table always
holds exactly the last snapshot. Money columns are NUMERIC (exact).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from aether.storage.migrations.privileges import grant, require_app_role

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: A snapshot replaces the previous one: assets that disappeared are deleted (DELETE).
APP_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "account_balances": ("SELECT", "INSERT", "UPDATE", "DELETE"),
}


def upgrade() -> None:
    require_app_role()
    op.create_table(
        "account_balances",
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("total", sa.Numeric, nullable=False),
        sa.Column("held", sa.Numeric, nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "asset", name="pk_account_balances"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_account_balances_account_id_accounts"
        ),
        sa.CheckConstraint("asset <> ''", name="ck_account_balances_asset"),
        sa.CheckConstraint("held >= 0", name="ck_account_balances_held"),
    )
    for table, privileges in APP_PRIVILEGES.items():
        grant(table, *privileges)


def downgrade() -> None:
    op.drop_table("account_balances")
