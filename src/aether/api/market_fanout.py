"""Fan-out of market data from NATS to WebSocket clients, over one bus connection per app.

Each subject (``md.kraken.XBTUSD.trade``) is subscribed on NATS once, while at least one
client wants it; a message is handed to every interested client's bounded queue without
waiting. A client whose queue is full is marked dropped ("slow consumer") and closed by its
own task, so one slow reader never delays the others or the bus.

The bus connection (:class:`~aether.bus.connection.BusConnection`) retries forever in the
background (nats-py reconnects and re-subscribes by itself once connected; a new client
after a closed one is given every followed subject again); while it is down, clients stay
connected and receive a status message, and data resumes when it is back. "Down" includes
a stall, noticed by pings (:mod:`aether.bus.liveness`: about 6 s with the defaults).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import structlog
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from aether.bus.barrier import barrier
from aether.bus.connection import BusConnection
from aether.bus.liveness import MAX_OUTSTANDING_PINGS, PING_INTERVAL_SECONDS
from aether.ops.logs import redact_text

log = structlog.get_logger("aether.api.market_fanout")

SLOW_CONSUMER = "slow consumer"


@dataclass(eq=False, slots=True)
class MarketClient:
    """One authenticated WebSocket client: its queue of text frames and what it follows."""

    key_id: uuid.UUID
    queue: asyncio.Queue[str]
    subjects: set[str] = field(default_factory=set)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)  # set: a slow consumer

    def offer(self, text: str) -> bool:
        """Queue one frame without waiting; a full queue drops the client (False)."""
        if self.dropped.is_set():
            return False
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.dropped.set()
            return False
        return True


def status_frame(bus_up: bool) -> str:
    """The status message clients get when the bus goes down or comes back."""
    if bus_up:
        return json.dumps({"type": "status", "bus": "up", "message": "market-data bus connected"})
    return json.dumps(
        {
            "type": "status",
            "bus": "down",
            "message": "market-data bus unreachable; data resumes when it is back",
        }
    )


class MarketFanout:
    """Reference-counted NATS subscriptions feeding per-client queues; see the module doc."""

    def __init__(
        self,
        *,
        queue_size: int,
        max_connections_per_key: int,
        ping_interval_seconds: int = PING_INTERVAL_SECONDS,
        max_outstanding_pings: int = MAX_OUTSTANDING_PINGS,
    ) -> None:
        self.queue_size = queue_size
        self.max_connections_per_key = max_connections_per_key
        self.ping_interval_seconds = ping_interval_seconds
        self.max_outstanding_pings = max_outstanding_pings
        self._nc: Nats | None = None  # the client that holds the subscriptions
        self._connection: BusConnection | None = None
        self._lock = asyncio.Lock()
        self._interest: dict[str, set[MarketClient]] = {}
        self._subscriptions: dict[str, Subscription] = {}
        self._by_key: defaultdict[uuid.UUID, set[MarketClient]] = defaultdict(set)
        self.bus_up = False

    # --- bus connection ----------------------------------------------------------------------
    def connect(self, url: str) -> None:
        """Connect to NATS in the background, retrying until it answers."""
        if self._connection is None:
            self._connection = BusConnection(
                url,
                name="aether-api-market",
                retry_seconds=1.0,
                ping_interval_seconds=self.ping_interval_seconds,
                max_outstanding_pings=self.max_outstanding_pings,
                on_connected=self._on_connected,
                on_down=self._on_down,
                on_connect_failed=self._on_error,
                on_error=self._on_error,
            )
            self._connection.start()

    async def wait_connected(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for the first connection (True when connected)."""
        if self._connection is None:
            return False
        await self._connection.wait_ready(timeout)
        return self.bus_up

    async def _on_connected(self, nc: Nats) -> None:
        """A new client needs every followed subject; nats-py restores them on a reconnect."""
        async with self._lock:
            if nc is not self._nc:
                self._nc = nc
                for subject in self._interest:
                    self._subscriptions[subject] = await nc.subscribe(subject, cb=self._on_message)
        self._set_bus(True)

    def _on_error(self, exc: BaseException) -> None:
        log.warning("market bus error", error=redact_text(f"{type(exc).__name__}: {exc}")[:300])

    def _on_down(self, reason: str) -> None:
        self._set_bus(False)

    def _set_bus(self, up: bool) -> None:
        if up == self.bus_up:
            return
        self.bus_up = up
        log.info("market bus " + ("connected" if up else "disconnected"))
        frame = status_frame(up)
        for clients in self._by_key.values():
            for client in list(clients):
                client.offer(frame)  # a full queue marks the client dropped

    async def publish(self, subject: str, payload: bytes) -> bool:
        """Publish on the app's connection; False when there is no connection to hand it to."""
        nc = self._nc
        if nc is None or nc.is_closed:
            return False
        try:
            await nc.publish(subject, payload)
            if nc.is_connected:
                await barrier(nc, timeout=2)
        except Exception as exc:  # a failed announcement is reported, never raised
            log.warning("publish failed", subject=subject, error=f"{type(exc).__name__}")
            return False
        return True

    async def sync(self) -> None:
        """Wait until the bus has seen this connection's subscription changes (a round trip);
        returns at once while disconnected, when nats-py re-subscribes on reconnect."""
        nc = self._nc
        if nc is None or not nc.is_connected:
            return
        try:
            await barrier(nc, timeout=2)
        except Exception as exc:  # a lost round trip only delays the first messages
            log.warning("bus round trip failed", error=type(exc).__name__)

    async def close(self) -> None:
        """Stop connecting, drop every subscription and drain the bus connection."""
        if self._connection is not None:
            await self._connection.close()
        self._set_bus(False)  # clients still connected hear that the data stops
        self._nc = None

    # --- clients -------------------------------------------------------------------------------
    def register(self, key_id: uuid.UUID) -> MarketClient | None:
        """A new client of ``key_id``, or None when the key is at its connection limit."""
        if len(self._by_key[key_id]) >= self.max_connections_per_key:
            return None
        client = MarketClient(key_id, asyncio.Queue(maxsize=self.queue_size))
        self._by_key[key_id].add(client)
        return client

    async def unregister(self, client: MarketClient) -> None:
        """Forget ``client`` and release the subjects nobody else wants."""
        for subject in list(client.subjects):
            await self.unfollow(client, subject)
        holders = self._by_key.get(client.key_id)
        if holders is not None:
            holders.discard(client)
            if not holders:
                del self._by_key[client.key_id]

    @property
    def client_count(self) -> int:
        return sum(len(c) for c in self._by_key.values())

    async def follow(self, client: MarketClient, subject: str) -> None:
        """Deliver ``subject`` to ``client`` (subscribing on NATS for its first follower)."""
        async with self._lock:
            client.subjects.add(subject)
            followers = self._interest.setdefault(subject, set())
            followers.add(client)
            if len(followers) == 1 and self._nc is not None:
                self._subscriptions[subject] = await self._nc.subscribe(
                    subject, cb=self._on_message
                )

    async def unfollow(self, client: MarketClient, subject: str) -> None:
        """Stop delivering ``subject`` to ``client`` (unsubscribing after its last follower)."""
        async with self._lock:
            client.subjects.discard(subject)
            followers = self._interest.get(subject)
            if followers is None:
                return
            followers.discard(client)
            if followers:
                return
            del self._interest[subject]
            subscription = self._subscriptions.pop(subject, None)
            if subscription is not None:
                with suppress(Exception):  # a closed connection has no subscription to remove
                    await subscription.unsubscribe()

    # --- the per-message path ----------------------------------------------------------------
    async def _on_message(self, msg: Msg) -> None:
        followers = self._interest.get(msg.subject)
        if not followers:
            return
        text = msg.data.decode("utf-8", errors="replace")
        for client in followers:  # offer never waits nor changes who follows what
            client.offer(text)  # a full queue marks the client dropped; its task closes it

    def snapshot(self) -> dict[str, Any]:
        """Counts for logs and tests: clients, followed subjects, bus state."""
        return {
            "clients": self.client_count,
            "subjects": sorted(self._interest),
            "bus_up": self.bus_up,
        }
