"""The publishing NATS connection when the bus is down from the very start: it says so at
once, and the outage it reports on connecting starts when ``run`` began."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time

from aether.bus.publisher import BusPublisher
from aether.ops.localstack.servers import nats_bin
from tests.support.network import free_port
from tests.support.polling import eventually


async def test_an_outage_from_the_start_is_reported_from_when_run_began() -> None:
    port = free_port()
    outages: list[tuple[int, int, str]] = []
    bus = BusPublisher(
        f"nats://127.0.0.1:{port}",
        name="test-publisher",
        on_outage=lambda start, end, reason: outages.append((start, end, reason)),
        retry_seconds=0.1,
    )
    began = time.time_ns()
    task = asyncio.create_task(bus.run())
    server: subprocess.Popen[bytes] | None = None
    try:
        await eventually(lambda: bus.detail.startswith("bus unreachable"), within=10)
        assert not bus.ready
        assert "cannot connect" in bus.detail
        assert not await bus.publish("md.kraken.XBTUSD.trade", b"{}")

        server = subprocess.Popen(
            [str(nats_bin()), "-a", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await eventually(lambda: bus.ready, within=20)
        assert bus.detail == "publishing"
        ((start, end, reason),) = outages
        assert began <= start <= began + 1_000_000_000  # from when run began, not later
        assert end > start
        assert reason.startswith("cannot connect")
        assert await bus.publish("md.kraken.XBTUSD.trade", b"{}")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bus.close()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
