"""Order events on the bus, after their transaction committed.

The database is the record: every event is in ``order_events`` before it is published, so a
failed publish loses nothing. A consumer that missed messages (or starts late) reads the
account's events after the last ``event_id`` it saw from ``order_events`` (ordered by
``id``), then follows the subject; each message carries its ``event_id`` for this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import structlog

from aether.bus.subjects import order_subject
from aether.domain import decimal_json
from aether.oms.records import PendingEvent

log = structlog.get_logger("aether.oms")


class EventSink(Protocol):
    """A publisher (``aether.bus.publisher.BusPublisher`` is one)."""

    async def publish(self, subject: str, payload: bytes) -> bool: ...


async def publish_events(sink: EventSink | None, events: Iterable[PendingEvent]) -> int:
    """Publish ``events`` in order; the number that could not be (they stay in the table).

    Without a sink (a process with no bus, such as a benchmark) nothing is published."""
    if sink is None:
        return 0
    missed = 0
    for event in events:
        subject = order_subject(str(event.account_id), event.kind)
        body = decimal_json.dumps(event.message(), decimals="string").encode()
        if not await sink.publish(subject, body):
            missed += 1
    if missed:
        log.warning("order events not published; they are in order_events", missed=missed)
    return missed
