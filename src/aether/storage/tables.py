"""Table definitions (SQLAlchemy 2 declarative). Alembic migrations are the schema's source
of truth in the database; these mappings must match them (a test compares the two)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> Any:
    return func.now()


class AccountRow(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('company','director','other')", name="kind"),
        CheckConstraint("mode IN ('paper','live')", name="mode"),
        CheckConstraint("status IN ('active','suspended','closed')", name="status"),
        CheckConstraint("base_currency = 'USD'", name="base_currency"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8), server_default="paper")
    base_currency: Mapped[str] = mapped_column(String(8), server_default="USD")
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("status IN ('active','disabled')", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, server_default="false")
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class GrantRow(Base):
    __tablename__ = "user_account_grants"
    __table_args__ = (
        CheckConstraint("role IN ('viewer','trader','admin')", name="role"),
        Index("ix_user_account_grants_account_id", "account_id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_user_id", "user_id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(Text)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_account_id_seq", "account_id", "seq"),
        Index("ix_audit_log_action", "action"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    action: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class HeartbeatRow(Base):
    """One row per process that proves the database accepts writes (readiness probe)."""

    __tablename__ = "ops_heartbeat"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


# --- market data ------------------------------------------------------------------------------


class InstrumentRow(Base):
    """One Kraken pair as the registry last saw it; ``status`` is ``online`` or why it is not."""

    __tablename__ = "instruments"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)  # REST altname, XBTUSD
    venue: Mapped[str] = mapped_column(String(16), server_default="kraken")
    ws_symbol: Mapped[str] = mapped_column(String(32))  # WebSocket v2 name, BTC/USD
    # REST pair key, XXBTZUSD; null until a load after migration 0003 stores it.
    pair_key: Mapped[str | None] = mapped_column(String(32))
    base: Mapped[str] = mapped_column(String(16))
    quote: Mapped[str] = mapped_column(String(16))
    tick_size: Mapped[Decimal] = mapped_column(Numeric)
    lot_size: Mapped[Decimal] = mapped_column(Numeric)
    min_quantity: Mapped[Decimal] = mapped_column(Numeric)
    min_cost: Mapped[Decimal] = mapped_column(Numeric)
    fees: Mapped[list[dict[str, str]]] = mapped_column(JSONB)  # tiers: min_volume_usd/maker/taker
    status: Mapped[str] = mapped_column(String(200))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstrumentRefreshRow(Base):
    """One registry load: when, how many pairs were kept, and every skipped pair's reason."""

    __tablename__ = "instrument_refreshes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kept: Mapped[int] = mapped_column(Integer)
    skipped: Mapped[dict[str, str]] = mapped_column(JSONB)


class MarketSubscriptionRow(Base):
    """A pair the ingest follows, and which of its channels; survives restarts."""

    __tablename__ = "market_subscriptions"
    __table_args__ = (
        CheckConstraint(
            "kinds <@ ARRAY['book','trade','ticker','ohlc']::varchar[] AND cardinality(kinds) > 0",
            name="kinds",
        ),
    )

    symbol: Mapped[str] = mapped_column(
        String(32), ForeignKey("instruments.symbol"), primary_key=True
    )
    kinds: Mapped[list[str]] = mapped_column(ARRAY(String(8)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    created_by: Mapped[str] = mapped_column(String(200))


class MarketTradeRow(Base):
    """A public trade print. Kraken numbers trades per pair, so (symbol, trade_id) is the
    identity whichever way the print arrived (WebSocket or REST), which keeps re-ingest
    idempotent; that identity has no time column, so this stays a plain table (BRIN on ts)."""

    __tablename__ = "market_trades"
    __table_args__ = (
        CheckConstraint("side IN ('buy','sell')", name="side"),
        Index("ix_market_trades_ts", "ts", postgresql_using="brin"),
        # History pages walk one pair in (ts, trade_id) order.
        Index("ix_market_trades_symbol_ts", "symbol", "ts", "trade_id"),
    )

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    trade_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    price: Mapped[Decimal] = mapped_column(Numeric)
    quantity: Mapped[Decimal] = mapped_column(Numeric)
    side: Mapped[str] = mapped_column(String(4))
    source: Mapped[str] = mapped_column(String(16))  # ws | rest


class CandleRow(Base):
    """OHLCV of one interval from one source (kraken-ws, trades, kraken-csv, kraken-ohlc).

    Each source keeps its own row so received and trade-built candles can be reconciled."""

    __tablename__ = "candles"
    __table_args__ = (
        CheckConstraint("interval_s > 0", name="interval_s"),
        CheckConstraint("low <= high", name="low_high"),
        Index("ix_candles_start", "start", postgresql_using="brin"),
    )

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    interval_s: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    open: Mapped[Decimal] = mapped_column(Numeric)
    high: Mapped[Decimal] = mapped_column(Numeric)
    low: Mapped[Decimal] = mapped_column(Numeric)
    close: Mapped[Decimal] = mapped_column(Numeric)
    volume: Mapped[Decimal] = mapped_column(Numeric)
    trades: Mapped[int] = mapped_column(Integer)


class ReferencePriceRow(Base):
    """A third-party price point (CoinGecko): context for models, never a trading price."""

    __tablename__ = "reference_prices"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    coin: Mapped[str] = mapped_column(String(64), primary_key=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    price_usd: Mapped[Decimal] = mapped_column(Numeric)
    market_cap_usd: Mapped[Decimal | None] = mapped_column(Numeric)
    volume_usd: Mapped[Decimal | None] = mapped_column(Numeric)


class MarketGapRow(Base):
    """Data known to be missing: a reconnect, a checksum resync, an outage of the bus or the
    database, a hole found by an import. Recording it is what makes a hole visible."""

    __tablename__ = "market_gaps"
    __table_args__ = (
        # One row per hole: re-running an import that finds the same hole adds nothing.
        Index("uq_market_gaps_identity", "symbol", "start", "kind", "source", unique=True),
        CheckConstraint("end_at IS NULL OR end_at >= start", name="range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64))  # a pair, or a reference coin id
    kind: Mapped[str] = mapped_column(String(16))  # trade | book | ticker | ohlc | candle
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))  # ingest | import:<name>
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


class ImportProgressRow(Base):
    """Where a resumable import got to (``job`` such as ``backfill:XBTUSD``)."""

    __tablename__ = "import_progress"

    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())


# --- credential vault ----------------------------------------------------------------------------


class KrakenCredentialRow(Base):
    """An account's Kraken API key and secret, envelope-encrypted (``aether.security.vault``):
    only ``key_prefix`` and ``permissions`` are stored in the clear."""

    __tablename__ = "kraken_credentials"
    __table_args__ = (Index("ix_kraken_credentials_kek_id", "kek_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    key_prefix: Mapped[str] = mapped_column(String(16))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)  # key and secret, under the data key
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)  # the data key, under the KEK
    kek_id: Mapped[str] = mapped_column(String(32))
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=_now())
    created_by: Mapped[str] = mapped_column(String(200))
    validated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rewrapped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
