"""Dates and times given on the command line."""

from __future__ import annotations

from datetime import UTC, datetime

from aether.cli.output import fail


def epoch_seconds(text: str | None, option: str) -> int | None:
    """Epoch seconds of an ISO 8601 date or time (UTC unless it names a zone); None stays
    None; anything else exits with an error naming ``option``."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r}: not a date or time (use 2026-01-01 or 2026-01-01T00:00:00Z)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
