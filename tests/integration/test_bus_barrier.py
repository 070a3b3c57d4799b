"""bus.barrier on a real NATS server: after it returns, a subscription made before it sees
every message published from another connection (nats-py's flush() does not promise that)."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.aio.msg import Msg

from aether.bus.barrier import barrier
from aether.ops.endpoints import ServerUrls

ROUNDS = 300


async def test_a_subscription_is_in_effect_once_the_barrier_returns(
    aether_urls: ServerUrls,
) -> None:
    subscriber = await nats.connect(aether_urls.nats_url)
    publisher = await nats.connect(aether_urls.nats_url)
    missed: list[int] = []
    try:
        for n in range(ROUNDS):
            arrived = asyncio.Event()

            async def arrive(msg: Msg, arrived: asyncio.Event = arrived) -> None:
                arrived.set()

            subject = f"test.barrier.{n}"
            subscription = await subscriber.subscribe(subject, cb=arrive)
            await barrier(subscriber, timeout=15)
            await publisher.publish(subject, b"x")
            await barrier(publisher, timeout=15)
            # Both barriers returned: the server has routed the message; only the local
            # dispatch to the callback remains.
            try:
                async with asyncio.timeout(5):
                    await arrived.wait()
            except TimeoutError:
                missed.append(n)
            await subscription.unsubscribe()
    finally:
        await subscriber.close()
        await publisher.close()
    assert missed == []


async def test_a_closed_connection_is_an_error_not_a_pass(aether_urls: ServerUrls) -> None:
    client = await nats.connect(aether_urls.nats_url)
    await client.close()
    with pytest.raises(nats.errors.ConnectionClosedError):
        await barrier(client, timeout=1)
