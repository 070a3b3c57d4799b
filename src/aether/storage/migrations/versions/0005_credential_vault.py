"""Credential vault: each account's Kraken API key and secret under envelope encryption.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

One row per account. The key and secret are encrypted under a per-row AES-256-GCM data key
(``ciphertext``), which is wrapped by a key-encryption key the database never sees
(``wrapped_key``, the KEK's id in ``kek_id``); ``key_prefix`` and ``permissions`` are the only
plain facts about the key. The run-time role reads, inserts and replaces rows (a rotation
updates the row in place; ``aether vault rotate-kek`` re-wraps ``wrapped_key``); nothing is
deleted by the platform.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from aether.storage.migrations.privileges import grant, require_app_role

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    require_app_role()
    op.create_table(
        "kraken_credentials",
        sa.Column(
            "account_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey(
                "accounts.id",
                ondelete="CASCADE",
                name="fk_kraken_credentials_account_id_accounts",
            ),
            primary_key=True,
        ),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
        sa.Column("kek_id", sa.String(32), nullable=False),
        sa.Column("permissions", pg.ARRAY(sa.String(32)), nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("validated_at", _TS, nullable=False),
        sa.Column("rewrapped_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("account_id", name="pk_kraken_credentials"),
    )
    # `aether vault rotate-kek` looks for rows not yet under the current KEK.
    op.create_index("ix_kraken_credentials_kek_id", "kraken_credentials", ["kek_id"])
    grant("kraken_credentials", "SELECT", "INSERT", "UPDATE")


def downgrade() -> None:
    op.drop_table("kraken_credentials")
