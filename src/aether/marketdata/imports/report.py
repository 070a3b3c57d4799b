"""What an import did: rows read and added per table, gaps found, where it resumed."""

from __future__ import annotations

from dataclasses import dataclass, field

from aether.domain import timestamps


def iso_utc(epoch_s: int | None) -> str | None:
    """``2026-01-01T00:00:00Z`` for epoch seconds (None stays None)."""
    return None if epoch_s is None else timestamps.iso_utc(epoch_s)


@dataclass(slots=True)
class ImportReport:
    """One job's outcome. ``added`` counts rows new to each table (candles: added or
    changed), so a re-run over the same data reports zeros; ``gaps_found`` counts every hole
    the job saw in its range, ``gaps_recorded`` only those new to ``market_gaps``."""

    job: str
    subject: str
    rows_read: int = 0
    added: dict[str, int] = field(default_factory=dict)
    gaps_found: int = 0
    gaps_recorded: int = 0
    first_s: int | None = None
    end_s: int | None = None
    resumed_from_s: int | None = None
    notes: list[str] = field(default_factory=list)

    def add(self, table: str, rows: int) -> None:
        self.added[table] = self.added.get(table, 0) + rows

    @property
    def rows_added(self) -> int:
        return sum(self.added.values())

    def as_json(self) -> dict[str, object]:
        return {
            "job": self.job,
            "subject": self.subject,
            "rows_read": self.rows_read,
            "rows_added": self.rows_added,
            "added": dict(self.added),
            "gaps_found": self.gaps_found,
            "gaps_recorded": self.gaps_recorded,
            "from": iso_utc(self.first_s),
            "to": iso_utc(self.end_s),
            "resumed_from": iso_utc(self.resumed_from_s),
            "notes": list(self.notes),
        }
