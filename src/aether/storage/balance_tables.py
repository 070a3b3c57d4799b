"""Table mapping of the account balances a venue reported: the latest snapshot per asset.

Kept apart from ``tables`` (on ``tables.Base``); ``schema`` gathers every mapping for the
migrations' checks. Alembic migration 0008 is its source of truth in the database; the
writer is ``aether.oms.balance_snapshots``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Numeric, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from aether.storage.tables import Base


class AccountBalanceRow(Base):
    """One asset of a live account as its venue last reported it: ``total`` and what open
    orders ``held``, observed at ``observed_at``. A snapshot replaces the previous one whole."""

    __tablename__ = "account_balances"
    __table_args__ = (
        CheckConstraint("asset <> ''", name="asset"),
        CheckConstraint("held >= 0", name="held"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("accounts.id"), primary_key=True
    )
    asset: Mapped[str] = mapped_column(String(16), primary_key=True)
    total: Mapped[Decimal] = mapped_column(Numeric)
    held: Mapped[Decimal] = mapped_column(Numeric)
    observed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
