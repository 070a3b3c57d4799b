"""One NATS connection kept up for its owner: the platform's connect options, reconnects,
liveness pings, setup after each (re)connect, and a draining close.

Rules a caller must know:

* ``run`` (or ``start``, which runs it in a task of its own) connects and keeps a connection
  until cancelled. nats-py retries a refused first connect and reconnects a lost connection
  by itself, without limit, every ``retry_seconds``; when a connection closes for good, or
  connecting fails outright, ``run`` waits ``retry_seconds`` (a fixed-pace
  :class:`~aether.ops.retrying.RetryPolicy`) and connects again with a new client.
* Every connection pings every :data:`~aether.bus.liveness.PING_INTERVAL_SECONDS` and counts
  the server gone after :data:`~aether.bus.liveness.MAX_OUTSTANDING_PINGS` unanswered, so a
  stalled server is noticed in seconds.
* After every (re)connect ``on_connected(client)`` runs (ensure streams, subscribe) until it
  succeeds on that connection; NATS, OS and timeout errors are retried every
  ``retry_seconds``, each told to ``on_setup_failed``. ``ready`` is True from its success
  until the connection is lost. A reconnect keeps the same client (nats-py restores its
  subscriptions); only a new connection brings a new client.
* ``on_down(reason)`` is told when the connection is lost (``"disconnected"``,
  ``"connection closed"``), ``on_connect_failed(exc)`` when connecting fails, and
  ``on_error(exc)`` of any other error nats-py reports. None of them is told anything once
  ``close`` has begun.
* ``close`` stops ``start``'s task, cancels a running setup, drains the connection (at most
  ``drain_seconds``) and closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError

from aether.bus.liveness import MAX_OUTSTANDING_PINGS, PING_INTERVAL_SECONDS
from aether.ops.retrying import RetryPolicy, Sleep
from aether.ops.tasks import stop_task

__all__ = ["BusConnection", "ConnectionEnded"]

OnConnected = Callable[[Client], Awaitable[None]]
#: Errors that fail a connect or a setup attempt; both are tried again.
UNAVAILABLE: tuple[type[BaseException], ...] = (OSError, TimeoutError, NatsError)


class ConnectionEnded(Exception):
    """A connection closed for good (nats-py stopped reconnecting it): connect anew."""


class BusConnection:
    """One NATS client kept connected; see the module's rules."""

    def __init__(
        self,
        url: str,
        *,
        name: str,
        retry_seconds: float,
        connect_timeout: float = 2.0,
        pending_size: int | None = None,
        ping_interval_seconds: int = PING_INTERVAL_SECONDS,
        max_outstanding_pings: int = MAX_OUTSTANDING_PINGS,
        drain_seconds: float = 2.0,
        on_connected: OnConnected | None = None,
        on_setup_failed: Callable[[BaseException], None] | None = None,
        on_down: Callable[[str], None] | None = None,
        on_connect_failed: Callable[[BaseException], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.url = url
        self.name = name
        self.retry_seconds = retry_seconds
        self.connect_timeout = connect_timeout
        self.pending_size = pending_size
        self.ping_interval_seconds = ping_interval_seconds
        self.max_outstanding_pings = max_outstanding_pings
        self.drain_seconds = drain_seconds
        self.on_connected = on_connected
        self.on_setup_failed = on_setup_failed
        self.on_down = on_down
        self.on_connect_failed = on_connect_failed
        self.on_error = on_error
        self._sleep = sleep
        self._pace = RetryPolicy.fixed(retry_seconds)
        self.client: Client | None = None
        self.ready = False
        self._ready = asyncio.Event()
        self._closed = asyncio.Event()
        self._closing = False
        self._runner: asyncio.Task[None] | None = None
        self._setup: asyncio.Task[None] | None = None

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Run :meth:`run` in a task of its own (``close`` stops it)."""
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(
                self.run(), name=f"bus-connection-{self.name}"
            )

    async def run(self) -> None:
        """Connect and stay connected, a new client whenever one closes; cancel to stop."""
        await self._pace.run(
            self._one_connection, (*UNAVAILABLE, ConnectionEnded), sleep=self._sleep
        )

    async def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the first successful setup (True when ready)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        return self.ready

    async def close(self) -> None:
        """Stop connecting, cancel a running setup, drain (bounded) and close."""
        self._closing = True
        for task in (self._runner, self._setup):
            await stop_task(task)
        self._runner = self._setup = None
        client, self.client = self.client, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(NatsError, OSError, TimeoutError):
                async with asyncio.timeout(self.drain_seconds):
                    await client.drain()
            if not client.is_closed:
                await client.close()
        self.ready = False

    # --- one connection ---------------------------------------------------------------------
    async def _one_connection(self) -> None:
        """Connect, set up, and hold the connection until it closes; always ends raising."""
        self._closed.clear()
        try:
            self.client = await nats.connect(self.url, **self._options())
        except UNAVAILABLE as exc:
            self.client = None
            self._connect_failed(exc)
            raise
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            # Python 3.11's wait_for (inside nats.connect) returns a connection that came
            # with a cancel and drops the cancel: honour it here.
            raise asyncio.CancelledError
        self._start_setup()
        await self._closed.wait()
        self.client = None
        self._lost("connection closed")
        raise ConnectionEnded(self.name)

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "name": self.name,
            "connect_timeout": self.connect_timeout,
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": self.retry_seconds,
            "ping_interval": self.ping_interval_seconds,  # a stalled server counts as down
            "max_outstanding_pings": self.max_outstanding_pings,
            "disconnected_cb": self._disconnected,
            "reconnected_cb": self._reconnected,
            "closed_cb": self._on_closed,
            "error_cb": self._error,
        }
        if self.pending_size is not None:
            options["pending_size"] = self.pending_size
        return options

    def _start_setup(self) -> None:
        if self._setup is not None and not self._setup.done():
            self._setup.cancel()
        self._setup = asyncio.get_running_loop().create_task(self._set_up())

    async def _set_up(self) -> None:
        """Run ``on_connected`` until it succeeds on the current connection."""

        async def attempt() -> bool:
            client = self.client
            if client is None or not client.is_connected:
                return False  # the next (re)connect starts it again
            if self.on_connected is not None:
                await self.on_connected(client)
            return True

        if await self._pace.run(
            attempt, UNAVAILABLE, sleep=self._sleep, on_wait=self._setup_failed
        ):
            self.ready = True
            self._ready.set()

    def _setup_failed(self, exc: BaseException, _wait: float) -> None:
        self.ready = False
        if self.on_setup_failed is not None and not self._closing:
            self.on_setup_failed(exc)

    def _lost(self, reason: str) -> None:
        self.ready = False
        if self.on_down is not None and not self._closing:
            self.on_down(reason)

    def _connect_failed(self, exc: BaseException) -> None:
        if self.on_connect_failed is not None and not self._closing:
            self.on_connect_failed(exc)

    # --- nats-py callbacks ------------------------------------------------------------------
    async def _disconnected(self) -> None:
        self._lost("disconnected")

    async def _reconnected(self) -> None:
        self._start_setup()

    async def _on_closed(self) -> None:
        self._closed.set()

    async def _error(self, exc: Exception) -> None:
        if self.client is None:
            # nats.connect retries a refused first connect inside the call (unlimited
            # attempts) and reports each failure only here.
            self._connect_failed(exc)
        elif self.on_error is not None and not self._closing:
            self.on_error(exc)
