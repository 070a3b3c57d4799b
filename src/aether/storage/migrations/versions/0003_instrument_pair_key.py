"""Instruments: Kraken's REST pair key (``XXBTZUSD``), one of the names a pair is typed by.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Nullable: rows stored before this revision get their key at the registry's next load.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("instruments", sa.Column("pair_key", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("instruments", "pair_key")
