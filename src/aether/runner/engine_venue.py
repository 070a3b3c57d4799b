"""The venue an account runner's engine sees: commands are queued for the order service,
and what the order service and the fill path learn comes back as venue events.

The engine is pure and synchronous: ``submit`` and ``cancel`` only record the command; the
runner takes them after each market event and awaits the order service. The engine's own
order ids (``<prefix>-<n>``) are mapped to the order service's ids (random UUIDs, which
reconciliation recognises as Aether's) here, both ways.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from aether.domain.events import VenueEvent
from aether.domain.orders import OrderRequest

__all__ = ["CancelCommand", "Command", "EngineVenue", "SubmitCommand"]


@dataclass(frozen=True, slots=True)
class SubmitCommand:
    """Send ``request`` under the order service's id ``cl_ord_id``."""

    engine_id: str
    cl_ord_id: str
    request: OrderRequest


@dataclass(frozen=True, slots=True)
class CancelCommand:
    engine_id: str
    cl_ord_id: str


Command = SubmitCommand | CancelCommand


class EngineVenue:
    """Commands out to the runner, events in to the engine (the ``Venue`` protocol)."""

    name = "runner"

    def __init__(self) -> None:
        self._commands: list[Command] = []
        self._events: list[VenueEvent] = []
        self._service_ids: dict[str, str] = {}  # engine id -> order service id
        self._engine_ids: dict[str, str] = {}  # order service id -> engine id

    # --- the engine's side (Venue) ------------------------------------------------------
    def submit(self, request: OrderRequest, now_ns: int) -> None:
        engine_id = request.cl_ord_id
        cl_ord_id = str(uuid.uuid4())
        self._service_ids[engine_id] = cl_ord_id
        self._engine_ids[cl_ord_id] = engine_id
        self._commands.append(SubmitCommand(engine_id, cl_ord_id, request))

    def cancel(self, cl_ord_id: str, now_ns: int) -> None:
        service_id = self._service_ids.get(cl_ord_id)
        if service_id is not None:
            self._commands.append(CancelCommand(cl_ord_id, service_id))

    def poll(self) -> list[VenueEvent]:
        events, self._events = self._events, []
        return events

    # --- the runner's side --------------------------------------------------------------
    def take_commands(self) -> list[Command]:
        """The commands since the last call, oldest first."""
        commands, self._commands = self._commands, []
        return commands

    def engine_id(self, cl_ord_id: str) -> str | None:
        """The engine's id of an order service id; None for an order the engine did not send
        (an API order, or one of an earlier tenure)."""
        return self._engine_ids.get(cl_ord_id)

    def forget(self, cl_ord_id: str) -> None:
        """The order service's order ``cl_ord_id`` is finished: drop its id mapping (a late
        fill of it reaches the engine under the service's id, as an outside fill)."""
        engine_id = self._engine_ids.pop(cl_ord_id, None)
        if engine_id is not None:
            self._service_ids.pop(engine_id, None)

    def push(self, event: VenueEvent) -> None:
        """An event for the engine's next poll; its ``cl_ord_id`` must be the engine's id."""
        self._events.append(event)

    @property
    def pending(self) -> bool:
        """Commands are waiting for the runner."""
        return bool(self._commands)
