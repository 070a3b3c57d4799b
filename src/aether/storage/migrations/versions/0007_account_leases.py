"""Account leases: which runner process runs each account, until when, under which token.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

One row per account that was ever leased. A lease is never deleted (a release only ends it),
so an account's ``fencing_token`` only grows: a writer stamped with an older token is refused
(``aether.oms.leases``). Times are the database's own clock, never a runner's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from aether.storage.migrations.privileges import grant, require_app_role

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

#: Runners take, renew and end leases (UPDATE); rows are never deleted, so tokens never reset.
APP_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "account_leases": ("SELECT", "INSERT", "UPDATE"),
}


def upgrade() -> None:
    require_app_role()
    op.create_table(
        "account_leases",
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("fencing_token", sa.BigInteger, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("acquired_at", _TS, nullable=False),
        sa.Column("renewed_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_leases"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_account_leases_account_id_accounts"
        ),
        sa.CheckConstraint("holder <> ''", name="ck_account_leases_holder"),
        sa.CheckConstraint("fencing_token > 0", name="ck_account_leases_fencing_token"),
    )
    # A runner lists what it holds.
    op.create_index("ix_account_leases_holder", "account_leases", ["holder"])
    for table, privileges in APP_PRIVILEGES.items():
        grant(table, *privileges)


def downgrade() -> None:
    op.drop_table("account_leases")
