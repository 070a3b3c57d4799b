"""Reading a Kraken WebSocket: messages, silences (stale, recovered, dead) and gaps.

Shared by the public market stream and the private session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

NS = 1_000_000_000
#: How many stream events (gaps, stale, recovered) a long-running stream keeps for callers.
EVENTS_KEPT = 1000


@dataclass(frozen=True, slots=True)
class StreamGap:
    """Data that may have been missed: ``reason`` says why (checksum, reconnect, ...)."""

    symbol: str
    channel: str
    reason: str
    ts_ns: int


@dataclass(frozen=True, slots=True)
class StreamStale:
    since_ns: int  # the time of the last message received
    ts_ns: int


@dataclass(frozen=True, slots=True)
class StreamRecovered:
    ts_ns: int


async def receive(
    socket: Any,
    *,
    stale_after: float,
    clock: Callable[[], int],
    dead_after: float | None = None,
) -> AsyncIterator[str | StreamStale | StreamRecovered]:
    """Messages of ``socket``, with its silences: no message for ``stale_after`` seconds
    yields one ``StreamStale``, the next message is preceded by ``StreamRecovered``; a
    silence of ``dead_after`` seconds ends the iteration (the caller closes the socket)."""
    last = clock()
    stale = False
    while True:
        try:
            # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel.
            async with asyncio.timeout(stale_after):
                raw = await socket.recv()
        except TimeoutError:
            now = clock()
            if not stale:
                stale = True
                yield StreamStale(last, now)
            if dead_after is not None and now - last >= dead_after * NS:
                return
            continue
        last = clock()
        if stale:
            stale = False
            yield StreamRecovered(last)
        yield raw
