"""Waiting for something asynchronous to become true, with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any


async def eventually(check: Callable[[], Any], within: float = 15.0, every: float = 0.05) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy, and return it;
    fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, f"not true within {within}s"
        await asyncio.sleep(every)
