"""The one NATS connection helper on a real server: connects once the server answers, sets
up after every (re)connect, notices a stalled server by its pings, replaces a connection
that closed for good with a new client, and drains on close without telling anyone."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError

from aether.bus.connection import BusConnection
from aether.ops.localstack.servers import nats_bin
from tests.support.network import free_port
from tests.support.polling import eventually


@contextmanager
def nats_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    server = subprocess.Popen(
        [str(nats_bin()), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield server
    finally:
        os.kill(server.pid, signal.SIGCONT)  # in case a test left it stopped
        server.terminate()
        server.wait(timeout=10)


class Heard:
    """Everything the connection told its owner, in order."""

    def __init__(self, failing_setups: int = 0) -> None:
        self.events: list[str] = []
        self.clients: list[Client] = []
        self.failing_setups = failing_setups

    async def connected(self, client: Client) -> None:
        if self.failing_setups > 0:
            self.failing_setups -= 1
            raise NatsTimeoutError
        self.clients.append(client)
        self.events.append("connected")

    def setup_failed(self, exc: BaseException) -> None:
        self.events.append(f"setup failed: {type(exc).__name__}")

    def down(self, reason: str) -> None:
        self.events.append(f"down: {reason}")

    def connect_failed(self, exc: BaseException) -> None:
        self.events.append("connect failed")

    def error(self, exc: Exception) -> None:
        self.events.append(f"error: {type(exc).__name__}")


@asynccontextmanager
async def kept(port: int, heard: Heard) -> AsyncIterator[BusConnection]:
    connection = BusConnection(
        f"nats://127.0.0.1:{port}",
        name="test-connection",
        retry_seconds=0.1,
        on_connected=heard.connected,
        on_setup_failed=heard.setup_failed,
        on_down=heard.down,
        on_connect_failed=heard.connect_failed,
        on_error=heard.error,
    )
    connection.start()
    try:
        yield connection
    finally:
        await connection.close()


async def test_it_connects_once_the_server_answers_and_sets_up_until_it_succeeds() -> None:
    port = free_port()
    heard = Heard(failing_setups=2)
    async with kept(port, heard) as connection:
        await eventually(lambda: "connect failed" in heard.events, within=10)
        assert not await connection.wait_ready(0.2)
        with nats_server(port):
            assert await connection.wait_ready(20)
            assert heard.events.count("setup failed: TimeoutError") == 2
            assert heard.events[-1] == "connected"
            client = connection.client
            assert client is not None
            assert client.is_connected
            await client.publish("test.connection", b"x")
        await eventually(lambda: not connection.ready, within=20)
        assert "down: disconnected" in heard.events
    assert client.is_closed
    assert connection.client is None


async def test_a_stalled_server_is_noticed_by_pings_and_the_same_client_set_up_again() -> None:
    port = free_port()
    heard = Heard()
    with nats_server(port) as server:
        async with kept(port, heard) as connection:
            assert await connection.wait_ready(20)
            (first,) = heard.clients
            stopped = time.monotonic()
            os.kill(server.pid, signal.SIGSTOP)  # the TCP connection stays open
            try:
                await eventually(lambda: "down: disconnected" in heard.events, within=30)
                noticed_after = time.monotonic() - stopped
            finally:
                os.kill(server.pid, signal.SIGCONT)
            await eventually(lambda: len(heard.clients) == 2 and connection.ready, within=30)
    # Pings 2 s apart, two unanswered: about 6 s, with slack for a loaded machine.
    assert noticed_after < 25
    assert heard.clients[1] is first  # nats-py reconnected it: subscriptions kept


async def test_a_connection_closed_for_good_is_replaced_by_a_new_client() -> None:
    port = free_port()
    heard = Heard()
    with nats_server(port):
        async with kept(port, heard) as connection:
            assert await connection.wait_ready(20)
            first = connection.client
            assert first is not None
            await first.close()  # as nats-py does when it gives a connection up
            await eventually(lambda: len(heard.clients) == 2 and connection.ready, within=20)
            assert heard.clients[1] is not first
            assert "down: connection closed" in heard.events
            told = len(heard.events)
        assert len(heard.events) == told  # closing told nobody anything
        assert heard.clients[1].is_closed


async def test_close_before_any_connection_stops_the_retrying() -> None:
    heard = Heard()
    async with kept(free_port(), heard) as connection:
        await eventually(lambda: "connect failed" in heard.events, within=10)
    told = len(heard.events)
    await asyncio.sleep(0.5)
    assert len(heard.events) == told
    assert not connection.ready
