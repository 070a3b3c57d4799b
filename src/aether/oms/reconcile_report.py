"""What one reconciliation of an account found and changed, and its metric.

Rules a reader must know:

* ``corrections`` are the changes made to the database (each also an audit entry and one
  increment of ``aether_reconciliation_corrections_total{kind}``); everything else in the
  report changed nothing: foreign orders, orders left to the outbox relay, orders left
  unresolved. The venue's balances replace the account's stored snapshot (not a correction).
* ``is_our_cl_ord_id`` is the adoption test: the service gives an order without an id a
  canonical lowercase UUID4 (``str(uuid.uuid4())``); anything else without an order row is
  someone else's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter

from aether.oms.venue_port import VenueBalance, VenueOpenOrder

#: Kinds of correction, the metric's ``kind`` label.
CORRECTION_KINDS = ("adopted", "acknowledged", "cancelled", "expired", "fill")


def is_our_cl_ord_id(cl_ord_id: str | None) -> bool:
    """True for an id the order service generates: a canonical lowercase UUID version 4."""
    if not cl_ord_id:
        return False
    try:
        parsed = uuid.UUID(cl_ord_id)
    except ValueError:
        return False
    return parsed.version == 4 and str(parsed) == cl_ord_id


@dataclass(frozen=True, slots=True)
class Correction:
    """One change reconciliation made: ``kind`` (see CORRECTION_KINDS), the order, detail."""

    kind: str
    cl_ord_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class Unresolved:
    """An order reconciliation could not settle for certain and left as it is."""

    cl_ord_id: str
    status: str
    reason: str


@dataclass
class ReconciliationReport:
    """One account's reconciliation against its venue."""

    account_id: uuid.UUID
    corrections: list[Correction] = field(default_factory=list)
    foreign_orders: list[VenueOpenOrder] = field(default_factory=list)
    left_to_relay: list[str] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    fills_recovered: int = 0
    #: The venue's balances as read, also stored as the account's snapshot
    #: (``account_balances``); a snapshot, not a check against anything.
    venue_balances: Mapping[str, VenueBalance] = field(default_factory=dict)

    def kinds(self) -> dict[str, int]:
        """How many corrections of each kind."""
        counts: dict[str, int] = {}
        for correction in self.corrections:
            counts[correction.kind] = counts.get(correction.kind, 0) + 1
        return counts


class ReconciliationMetrics:
    """``aether_reconciliation_corrections_total{kind}`` on the registry given."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.corrections = Counter(
            "aether_reconciliation_corrections",
            "Changes reconciliation made to the database, by kind (adopted, acknowledged, "
            "cancelled, expired, fill).",
            ["kind"],
            registry=registry,
        )

    def count(self, kind: str) -> None:
        self.corrections.labels(kind).inc()
