"""UTC epoch times as the text reports and files show."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso_utc"]


def iso_utc(epoch_seconds: int) -> str:
    """``2026-01-01T00:00:00Z`` for epoch seconds."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
