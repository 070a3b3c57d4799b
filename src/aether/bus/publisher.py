"""A NATS connection for publishers that must live through bus outages.

Rules a caller must know:

* ``run`` connects and keeps the connection: a refused first connect is retried every
  ``retry_seconds`` forever (the bus counts as down meanwhile), a lost connection is left to
  nats-py's reconnect (unlimited). After every (re)connect ``on_connect(client)`` runs
  (ensure streams, subscribe) until it succeeds; until then ``ready`` is False.
* ``publish`` is a core NATS publish (a JetStream stream captures the subject); it returns
  False, publishing nothing, while the connection is down. Nothing is queued for later:
  market data delivered late is worse than a recorded gap.
* Each outage is reported once it ends as ``on_outage(start_ns, end_ns, reason)``; an
  outage from the very start counts from when ``run`` began.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import nats
import structlog
from nats.aio.client import Client
from nats.errors import Error as NatsError

from aether.bus.liveness import MAX_OUTSTANDING_PINGS, PING_INTERVAL_SECONDS

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
        self.connect_timeout = connect_timeout
        self.clock = clock
        self.client: Client | None = None
        self.ready = False
        self.detail = "not connected yet"
        self.outages = 0
        self._down_since: int | None = None
        self._began: int | None = None
        self._down_reason = ""
        self._closing = False
        self._setup: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

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
        while True:
            self._closed.clear()
            try:
                self.client = await nats.connect(
                    self.url,
                    name=self.name,
                    connect_timeout=self.connect_timeout,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=self.retry_seconds,
                    ping_interval=PING_INTERVAL_SECONDS,  # a stalled server counts as down
                    max_outstanding_pings=MAX_OUTSTANDING_PINGS,
                    # Nothing is written while disconnected (publish checks first).
                    pending_size=8 * 1024 * 1024,
                    disconnected_cb=self._disconnected,
                    reconnected_cb=self._reconnected,
                    closed_cb=self._on_closed,
                    error_cb=self._error,
                )
            except (OSError, TimeoutError, NatsError) as exc:
                self.client = None
                self._connect_failed(exc)
                await asyncio.sleep(self.retry_seconds)
                continue
            self._start_setup()
            await self._closed.wait()
            self.client = None
            self._mark_down("connection closed")
            await asyncio.sleep(self.retry_seconds)

    async def close(self) -> None:
        """Drain and close the connection (after cancelling ``run``)."""
        self._closing = True
        if self._setup is not None:
            self._setup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._setup
        client, self.client = self.client, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(NatsError, OSError, TimeoutError):
                async with asyncio.timeout(2.0):
                    await client.drain()
            if not client.is_closed:
                await client.close()
        self.ready = False
        self.detail = "closed"

    # --- connection state -----------------------------------------------------------------
    def _mark_down(self, reason: str, since: int | None = None) -> None:
        if self._closing:
            return
        self.ready = False
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

    def _start_setup(self) -> None:
        if self._setup is not None and not self._setup.done():
            self._setup.cancel()
        self._setup = asyncio.get_running_loop().create_task(self._after_connect())

    async def _after_connect(self) -> None:
        """Run ``on_connect`` until it succeeds on the current connection."""
        while True:
            client = self.client
            if client is None or not client.is_connected:
                return  # the next (re)connect starts it again
            try:
                if self.on_connect is not None:
                    await self.on_connect(client)
            except (NatsError, OSError, TimeoutError) as exc:
                self.ready = False
                self.detail = f"bus connected, setup failed ({type(exc).__name__}: {exc})"[:200]
                await asyncio.sleep(self.retry_seconds)
                continue
            self._mark_up()
            self.ready = True
            self.detail = "publishing"
            return

    async def _disconnected(self) -> None:
        self._mark_down("disconnected")

    async def _reconnected(self) -> None:
        self._start_setup()

    async def _on_closed(self) -> None:
        self._closed.set()

    def _connect_failed(self, exc: BaseException) -> None:
        # Never connected yet: nothing was published since run began.
        never = self.outages == 0 and self._down_since is None
        self._mark_down(
            f"cannot connect: {type(exc).__name__}: {exc}", self._began if never else None
        )

    async def _error(self, exc: Exception) -> None:
        if self.client is None:
            # nats.connect retries a refused first connect inside the call (unlimited
            # attempts) and reports each failure only here.
            self._connect_failed(exc)
        elif self.ready:  # a failed reconnect: the state already says "down"
            log.warning("bus error", error=f"{type(exc).__name__}: {exc}"[:200])
