"""Orders: the order service's orders, their events, fills and the outbox of venue commands.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Money columns are NUMERIC (exact). An order is identified per account by its ``cl_ord_id``;
a fill by the venue's trade id, so a replayed fill adds nothing. ``order_events`` and
``fills`` are append-only for the run-time role (INSERT and SELECT only); orders and outbox
rows move through their states (UPDATE), and nothing is ever deleted by the platform.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from aether.storage.migrations.privileges import grant, require_app_role

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)

#: What the platform does with each new table, and so all the run-time role may do.
APP_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "orders": ("SELECT", "INSERT", "UPDATE"),
    "order_events": ("SELECT", "INSERT"),
    "fills": ("SELECT", "INSERT"),
    "order_outbox": ("SELECT", "INSERT", "UPDATE"),
}

_SIDES = "side IN ('buy','sell')"
_TYPES = (
    "type IN ('market','limit','stop-loss','stop-loss-limit','take-profit',"
    "'take-profit-limit','trailing-stop')"
)
_STATUSES = (
    "status IN ('new','submitted','accepted','partially_filled','filled','cancelled',"
    "'rejected','expired')"
)


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=f"fk_{table}_account_id_accounts"
    )


def _order_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=f"fk_{table}_order_id_orders")


def _orders() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("cl_ord_id", sa.String(36), nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("type", sa.String(24), nullable=False),
        sa.Column("quantity", sa.Numeric, nullable=False),
        sa.Column("price", sa.Numeric, nullable=True),
        sa.Column("trigger_price", sa.Numeric, nullable=True),
        sa.Column("time_in_force", sa.String(3), nullable=False),
        sa.Column("expire_at", _TS, nullable=True),
        sa.Column("post_only", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("filled_quantity", sa.Numeric, nullable=False, server_default="0"),
        sa.Column("avg_fill_price", sa.Numeric, nullable=True),
        sa.Column("venue_order_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("decision_price", sa.Numeric, nullable=True),
        sa.Column("mid_at_submit", sa.Numeric, nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
        _account_fk("orders"),
        sa.UniqueConstraint("account_id", "cl_ord_id", name="uq_orders_account_id"),
        sa.CheckConstraint(_SIDES, name="ck_orders_side"),
        sa.CheckConstraint(_TYPES, name="ck_orders_type"),
        sa.CheckConstraint(_STATUSES, name="ck_orders_status"),
        sa.CheckConstraint("quantity > 0", name="ck_orders_quantity"),
    )
    op.create_index("ix_orders_account_id_status", "orders", ["account_id", "status"])
    op.create_index("ix_orders_venue_order_id", "orders", ["venue", "venue_order_id"])


def upgrade() -> None:
    require_app_role()
    _orders()
    op.create_table(
        "order_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("ts", _TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_order_events"),
        _order_fk("order_events"),
        _account_fk("order_events"),
        sa.UniqueConstraint("order_id", "seq", name="uq_order_events_order_id"),
    )
    # A consumer catches up on an account's events by id.
    op.create_index("ix_order_events_account_id_id", "order_events", ["account_id", "id"])
    op.create_table(
        "fills",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("venue_trade_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("price", sa.Numeric, nullable=False),
        sa.Column("quantity", sa.Numeric, nullable=False),
        sa.Column("fee", sa.Numeric, nullable=False),
        sa.Column("fee_asset", sa.String(16), nullable=False),
        sa.Column("liquidity", sa.String(5), nullable=False),
        sa.Column("ts", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        _order_fk("fills"),
        _account_fk("fills"),
        sa.UniqueConstraint("venue", "venue_trade_id", name="uq_fills_venue"),
        sa.CheckConstraint(_SIDES, name="ck_fills_side"),
        sa.CheckConstraint("liquidity IN ('maker','taker')", name="ck_fills_liquidity"),
        sa.CheckConstraint("quantity > 0", name="ck_fills_quantity"),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])
    op.create_index("ix_fills_account_id_ts", "fills", ["account_id", "ts"])
    op.create_table(
        "order_outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("account_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("command", sa.String(8), nullable=False),
        sa.Column("state", sa.String(8), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_order_outbox"),
        _order_fk("order_outbox"),
        _account_fk("order_outbox"),
        sa.CheckConstraint("command IN ('submit','cancel')", name="ck_order_outbox_command"),
        sa.CheckConstraint("state IN ('pending','sent','done')", name="ck_order_outbox_state"),
    )
    # The relay reads only what is not done.
    op.create_index(
        "ix_order_outbox_open",
        "order_outbox",
        ["created_at"],
        postgresql_where=sa.text("state <> 'done'"),
    )
    for table, privileges in APP_PRIVILEGES.items():
        grant(table, *privileges)


def downgrade() -> None:
    for table in ("order_outbox", "fills", "order_events", "orders"):
        op.drop_table(table)
