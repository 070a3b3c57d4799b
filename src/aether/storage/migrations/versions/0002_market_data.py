"""Market data: instrument registry, subscriptions, trades, candles, reference prices, gaps.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

Candles become TimescaleDB hypertables where the extension is installed (production);
elsewhere they stay plain tables with a BRIN index on time. Trades are identified by
(symbol, trade_id), which carries no time column, so they stay a plain table everywhere.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "instruments",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("venue", sa.String(16), nullable=False, server_default="kraken"),
        sa.Column("ws_symbol", sa.String(32), nullable=False),
        sa.Column("base", sa.String(16), nullable=False),
        sa.Column("quote", sa.String(16), nullable=False),
        sa.Column("tick_size", sa.Numeric, nullable=False),
        sa.Column("lot_size", sa.Numeric, nullable=False),
        sa.Column("min_quantity", sa.Numeric, nullable=False),
        sa.Column("min_cost", sa.Numeric, nullable=False),
        sa.Column("fees", pg.JSONB, nullable=False),
        sa.Column("status", sa.String(200), nullable=False),
        sa.Column("refreshed_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("symbol", name="pk_instruments"),
    )
    op.create_table(
        "instrument_refreshes",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("kept", sa.Integer, nullable=False),
        sa.Column("skipped", pg.JSONB, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_instrument_refreshes"),
    )
    op.create_table(
        "market_subscriptions",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("kinds", pg.ARRAY(sa.String(8)), nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("symbol", name="pk_market_subscriptions"),
        sa.ForeignKeyConstraint(
            ["symbol"],
            ["instruments.symbol"],
            name="fk_market_subscriptions_symbol_instruments",
        ),
        sa.CheckConstraint(
            "kinds <@ ARRAY['book','trade','ticker','ohlc']::varchar[] AND cardinality(kinds) > 0",
            name="ck_market_subscriptions_kinds",
        ),
    )
    op.create_table(
        "market_trades",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("trade_id", sa.BigInteger, nullable=False),
        sa.Column("ts", _TS, nullable=False),
        sa.Column("price", sa.Numeric, nullable=False),
        sa.Column("quantity", sa.Numeric, nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "trade_id", name="pk_market_trades"),
        sa.CheckConstraint("side IN ('buy','sell')", name="ck_market_trades_side"),
    )
    op.create_index("ix_market_trades_ts", "market_trades", ["ts"], postgresql_using="brin")
    op.create_index("ix_market_trades_symbol_ts", "market_trades", ["symbol", "ts", "trade_id"])
    op.create_table(
        "candles",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("interval_s", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("start", _TS, nullable=False),
        sa.Column("open", sa.Numeric, nullable=False),
        sa.Column("high", sa.Numeric, nullable=False),
        sa.Column("low", sa.Numeric, nullable=False),
        sa.Column("close", sa.Numeric, nullable=False),
        sa.Column("volume", sa.Numeric, nullable=False),
        sa.Column("trades", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("symbol", "interval_s", "source", "start", name="pk_candles"),
        sa.CheckConstraint("interval_s > 0", name="ck_candles_interval_s"),
        sa.CheckConstraint("low <= high", name="ck_candles_low_high"),
    )
    op.create_index("ix_candles_start", "candles", ["start"], postgresql_using="brin")
    op.create_table(
        "reference_prices",
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("coin", sa.String(64), nullable=False),
        sa.Column("ts", _TS, nullable=False),
        sa.Column("price_usd", sa.Numeric, nullable=False),
        sa.Column("market_cap_usd", sa.Numeric, nullable=True),
        sa.Column("volume_usd", sa.Numeric, nullable=True),
        sa.PrimaryKeyConstraint("source", "coin", "ts", name="pk_reference_prices"),
    )
    op.create_table(
        "market_gaps",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("symbol", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start", _TS, nullable=False),
        sa.Column("end_at", _TS, nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("recorded_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("id", name="pk_market_gaps"),
        sa.CheckConstraint("end_at IS NULL OR end_at >= start", name="ck_market_gaps_range"),
    )
    op.create_index(
        "uq_market_gaps_identity",
        "market_gaps",
        ["symbol", "start", "kind", "source"],
        unique=True,
    )
    op.create_table(
        "import_progress",
        sa.Column("job", sa.String(100), nullable=False),
        sa.Column("cursor", sa.Text, nullable=False),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("job", name="pk_import_progress"),
    )
    # Hypertables only where TimescaleDB is installed; the primary key includes the time column.
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
                CREATE EXTENSION IF NOT EXISTS timescaledb;
                PERFORM create_hypertable('candles', 'start', migrate_data => true);
            END IF;
        END;
        $$;
        """
    )


def downgrade() -> None:
    op.drop_table("import_progress")
    op.drop_table("market_gaps")
    op.drop_table("reference_prices")
    op.drop_table("candles")
    op.drop_table("market_trades")
    op.drop_table("market_subscriptions")
    op.drop_table("instrument_refreshes")
    op.drop_table("instruments")
