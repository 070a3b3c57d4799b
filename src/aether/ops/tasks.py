"""Stopping a background task for good, even when the task loses a cancel.

Python 3.11's ``asyncio.wait_for`` returns the awaited result when that result arrives
in the same loop iteration as a cancel, and the cancel is gone (fixed in 3.12). nats-py
connects through ``wait_for``, so a component stopped just as its NATS connection came up
kept running, and a plain ``task.cancel(); await task`` waited for it forever.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["stop_task"]

#: How long a cancelled task has to end before it is cancelled again.
RECANCEL_SECONDS = 2.0


async def stop_task(
    task: asyncio.Task[Any] | None, *, recancel_seconds: float = RECANCEL_SECONDS
) -> BaseException | None:
    """Cancel ``task`` and wait until it has ended; ``None`` or a finished task is fine.

    The cancel is repeated every ``recancel_seconds`` until the task ends. Returns the
    exception the task ended with (never raises it; None when it was cancelled or
    returned). A cancel of the caller itself propagates at once: the task has been
    cancelled, but is not waited for.
    """
    if task is None:
        return None
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=recancel_seconds)
    return None if task.cancelled() else task.exception()
