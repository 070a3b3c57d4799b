"""Table mapping of the account leases: which runner process runs each account.

Kept apart from ``tables`` (on ``tables.Base``); ``schema`` gathers every mapping for the
migrations' checks. Alembic migration 0007 is its source of truth in the database; the
lease rules live in ``aether.oms.leases``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from aether.storage.tables import Base


class AccountLeaseRow(Base):
    """The lease of one account: ``holder`` runs it until ``expires_at`` (database time).

    ``fencing_token`` grows with every new tenure and never resets (rows are never deleted)."""

    __tablename__ = "account_leases"
    __table_args__ = (
        CheckConstraint("holder <> ''", name="holder"),
        CheckConstraint("fencing_token > 0", name="fencing_token"),
        Index("ix_account_leases_holder", "holder"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("accounts.id"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(200))
    fencing_token: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    renewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
