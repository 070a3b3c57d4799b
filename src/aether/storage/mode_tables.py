"""Table mapping of the mode-switch confirmations: the second step of switching an account
between paper and live.

Kept apart from ``tables`` (on ``tables.Base``); ``schema`` gathers every mapping for the
migrations' checks. Alembic migration 0009 is its source of truth in the database; the rules
live in ``aether.accounts.mode_tokens``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from aether.storage.tables import Base


class ModeSwitchTokenRow(Base):
    """One confirmation token: only its SHA-256 is kept, bound to an account, a target mode
    and the actor who asked; usable once (``used_at``) before ``expires_at`` (database time)."""

    __tablename__ = "mode_switch_tokens"
    __table_args__ = (
        CheckConstraint("target_mode IN ('paper','live')", name="target_mode"),
        CheckConstraint("expires_at > created_at", name="expires_at"),
        Index("ix_mode_switch_tokens_account_id", "account_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("accounts.id"))
    target_mode: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
