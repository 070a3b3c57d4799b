"""A round trip that proves the NATS server has processed what a connection sent before it.

``Client.flush()`` cannot be used for this with nats-py 2.16: it writes its PING straight to
the socket while earlier SUB/PUB commands still wait in the client's pending buffer, so the
PONG can come back before the server has seen them (measured: one in ten fresh
subscriptions missed a message published right after ``subscribe(); flush()``). A message
echoed through a private inbox travels the same ordered buffer as every earlier command,
and the server handles a connection's commands in order, so its return is the proof.
"""

from __future__ import annotations

from nats.aio.client import Client


async def barrier(nc: Client, timeout: float) -> None:
    """Return once the server has processed every command ``nc`` sent before this call.

    Raises ``nats.errors.TimeoutError`` when the echo does not return within ``timeout``
    seconds, and nats-py's connection errors when the connection is closed.
    """
    inbox = nc.new_inbox()
    echo = await nc.subscribe(inbox)
    try:
        await nc.publish(inbox, b"")
        await echo.next_msg(timeout=timeout)
    finally:
        await echo.unsubscribe()
