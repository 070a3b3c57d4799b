"""Table mappings of the order service: orders, their events, fills and the outbox.

Kept apart from ``tables`` (on ``tables.Base``); ``schema`` gathers every mapping for the
migrations' checks. Alembic migration 0006 is their source of truth in the database.
"""

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
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from aether.storage.tables import Base

_ORDER_SIDES = "side IN ('buy','sell')"


class OrderRow(Base):
    """One order of one account, as the order service knows it; ``cl_ord_id`` is unique per
    account. ``decision_price`` and ``mid_at_submit`` are kept so slippage is known per order."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "cl_ord_id"),
        CheckConstraint(_ORDER_SIDES, name="side"),
        CheckConstraint(
            "type IN ('market','limit','stop-loss','stop-loss-limit','take-profit',"
            "'take-profit-limit','trailing-stop')",
            name="type",
        ),
        CheckConstraint(
            "status IN ('new','submitted','accepted','partially_filled','filled','cancelled',"
            "'rejected','expired')",
            name="status",
        ),
        CheckConstraint("quantity > 0", name="quantity"),
        Index("ix_orders_account_id_status", "account_id", "status"),
        Index("ix_orders_venue_order_id", "venue", "venue_order_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("accounts.id"))
    cl_ord_id: Mapped[str] = mapped_column(String(36))
    venue: Mapped[str] = mapped_column(String(16))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    type: Mapped[str] = mapped_column(String(24))
    quantity: Mapped[Decimal] = mapped_column(Numeric)
    price: Mapped[Decimal | None] = mapped_column(Numeric)
    trigger_price: Mapped[Decimal | None] = mapped_column(Numeric)
    time_in_force: Mapped[str] = mapped_column(String(3))
    expire_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    post_only: Mapped[bool] = mapped_column(Boolean, server_default="false")
    status: Mapped[str] = mapped_column(String(20))
    filled_quantity: Mapped[Decimal] = mapped_column(Numeric, server_default="0")
    avg_fill_price: Mapped[Decimal | None] = mapped_column(Numeric)
    venue_order_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    decision_price: Mapped[Decimal | None] = mapped_column(Numeric)
    mid_at_submit: Mapped[Decimal | None] = mapped_column(Numeric)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OrderEventRow(Base):
    """What happened to an order, in order (``seq`` per order); ``payload`` holds exact
    decimals as strings. A bus consumer that missed a message catches up here by ``id``."""

    __tablename__ = "order_events"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        Index("ix_order_events_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("accounts.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(24))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FillRow(Base):
    """One execution, identified by the venue's trade id: a replayed fill adds nothing."""

    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("venue", "venue_trade_id"),
        CheckConstraint(_ORDER_SIDES, name="side"),
        CheckConstraint("liquidity IN ('maker','taker')", name="liquidity"),
        CheckConstraint("quantity > 0", name="quantity"),
        Index("ix_fills_order_id", "order_id"),
        Index("ix_fills_account_id_ts", "account_id", "ts"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("accounts.id"))
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id"))
    venue: Mapped[str] = mapped_column(String(16))
    venue_trade_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(4))
    price: Mapped[Decimal] = mapped_column(Numeric)
    quantity: Mapped[Decimal] = mapped_column(Numeric)
    fee: Mapped[Decimal] = mapped_column(Numeric)
    fee_asset: Mapped[str] = mapped_column(String(16))
    liquidity: Mapped[str] = mapped_column(String(5))
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderOutboxRow(Base):
    """A command for the venue (submit or cancel), written with the order change it carries
    out: ``pending`` until sent, ``sent`` while the answer is awaited, ``done`` after."""

    __tablename__ = "order_outbox"
    __table_args__ = (
        CheckConstraint("command IN ('submit','cancel')", name="command"),
        CheckConstraint("state IN ('pending','sent','done')", name="state"),
        Index("ix_order_outbox_open", "created_at", postgresql_where=text("state <> 'done'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("accounts.id"))
    command: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
