"""A NATS connection for publishers that must live through bus outages.

Rules a caller must know:

* ``run`` connects and keeps the connection (a
  :class:`~aether.bus.connection.BusConnection`): a refused first connect is retried every
  ``retry_seconds`` forever (the bus counts as down meanwhile), a lost connection is left
  to nats-py's reconnect (unlimited). After every (re)connect ``on_connect(client)`` runs
  (ensure streams, subscribe) until it succeeds; until then ``ready`` is False.
* ``publish`` is a core NATS publish (a JetStream stream captures the subject); it returns
  False, publishing nothing, while the connection is down. Nothing is queued for later:
  market data delivered late is worse than a recorded gap.
* Each outage is reported once it ends as ``on_outage(start_ns, end_ns, reason)``; an
  outage from the very start counts from when ``run`` began.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from nats.aio.client import Client
from nats.errors import Error as NatsError

from aether.bus.connection import BusConnection

log = structlog.get_logger("aether.bus")

OnConnect = Callable[[Client], Awaitable[None]]
OnOutage = Callable[[int, int, str], None]


class BusPublisher:
    """One publishing connection to NATS, reconnecting on its own."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        on_connect: OnConnect | None = None,
        on_outage: OnOutage | None = None,
        retry_seconds: float = 0.5,
        connect_timeout: float = 2.0,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.url = url
        self.name = name
        self.on_connect = on_connect
        self.on_outage = on_outage
        self.retry_seconds = retry_seconds
        self.clock = clock
        self.connection = BusConnection(
            url,
            name=name,
            retry_seconds=retry_seconds,
            connect_timeout=connect_timeout,
            # Nothing is written while disconnected (publish checks first).
            pending_size=8 * 1024 * 1024,
            on_connected=self._connected,
            on_setup_failed=self._setup_failed,
            on_down=self._mark_down,
            on_connect_failed=self._connect_failed,
            on_error=self._error,
        )
        self.detail = "not connected yet"
        self.outages = 0
        self._down_since: int | None = None
        self._began: int | None = None
        self._down_reason = ""

    @property
    def client(self) -> Client | None:
        return self.connection.client

    @property
    def ready(self) -> bool:
        """Connected and set up: publishing."""
        return self.connection.ready

    @property
    def connected(self) -> bool:
        client = self.client
        return client is not None and client.is_connected

    async def publish(self, subject: str, payload: bytes) -> bool:
        """Publish now, or return False when the bus is down (nothing is queued)."""
        client = self.client
        if client is None or not client.is_connected:
            return False
        try:
            await client.publish(subject, payload)
        except NatsError:
            return False
        return True

    async def run(self) -> None:
        """Connect and stay connected; cancel to stop (``close`` drains)."""
        self._began = self.clock()
        await self.connection.run()

    async def close(self) -> None:
        """Drain and close the connection (after cancelling ``run``)."""
        await self.connection.close()
        self.detail = "closed"

    # --- connection state -----------------------------------------------------------------
    async def _connected(self, client: Client) -> None:
        """After every (re)connect: the owner's setup, then the outage (if any) is over."""
        if self.on_connect is not None:
            await self.on_connect(client)
        self._mark_up()
        self.detail = "publishing"

    def _setup_failed(self, exc: BaseException) -> None:
        self.detail = f"bus connected, setup failed ({type(exc).__name__}: {exc})"[:200]

    def _mark_down(self, reason: str, since: int | None = None) -> None:
        self.detail = f"bus unreachable ({reason[:160]})"
        if self._down_since is None:
            self._down_since = since if since is not None else self.clock()
            self._down_reason = reason
            log.warning("bus unreachable", reason=reason[:200])

    def _mark_up(self) -> None:
        if self._down_since is not None:
            start, self._down_since = self._down_since, None
            self.outages += 1
            if self.on_outage is not None:
                self.on_outage(start, self.clock(), self._down_reason)
        log.info("bus connected")

    def _connect_failed(self, exc: BaseException) -> None:
        # Never connected yet: nothing was published since run began.
        never = self.outages == 0 and self._down_since is None
        self._mark_down(
            f"cannot connect: {type(exc).__name__}: {exc}", self._began if never else None
        )

    def _error(self, exc: Exception) -> None:
        if self.ready:  # a failed reconnect: the state already says "down"
            log.warning("bus error", error=f"{type(exc).__name__}: {exc}"[:200])
