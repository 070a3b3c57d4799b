"""stop_task ends a task even when the task loses a cancel, and never hides the caller's."""

from __future__ import annotations

import asyncio
import sys

import pytest

from aether.ops.tasks import stop_task


async def _loses_the_first_cancel(arrived: asyncio.Future[int], forever: asyncio.Event) -> None:
    # Python 3.11's wait_for returns a result that arrives with a cancel (nats-py connects
    # through it); then the task carries on as if never cancelled.
    await asyncio.wait_for(arrived, 10)
    await forever.wait()


async def _started(arrived: asyncio.Future[int]) -> asyncio.Task[None]:
    task = asyncio.create_task(_loses_the_first_cancel(arrived, asyncio.Event()))
    await asyncio.sleep(0.01)  # the task now waits inside wait_for
    return task


async def test_a_task_that_lost_its_cancel_is_cancelled_again_until_it_ends() -> None:
    arrived: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = await _started(arrived)
    arrived.set_result(1)
    task.cancel()  # in the same loop iteration as the result: the 3.11 race
    if sys.version_info < (3, 12):
        await asyncio.sleep(0.05)
        assert not task.done(), "the race this guards against did not happen"
    async with asyncio.timeout(5):
        assert await stop_task(task, recancel_seconds=0.05) is None
    assert task.cancelled()


async def test_returns_the_exception_a_task_ended_with_and_none_for_nothing() -> None:
    async def fails() -> None:
        raise ValueError("broken")

    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    error = await stop_task(failed)
    assert isinstance(error, ValueError)
    assert await stop_task(None) is None


async def test_a_cancel_of_the_caller_propagates_and_the_task_is_still_cancelled() -> None:
    released = asyncio.Event()
    cancels = 0

    async def stubborn() -> None:
        nonlocal cancels
        while not released.is_set():
            try:
                await released.wait()
            except asyncio.CancelledError:
                cancels += 1  # swallowed: this task only ends once released

    task = asyncio.create_task(stubborn())
    stopper = asyncio.create_task(stop_task(task, recancel_seconds=30))
    await asyncio.sleep(0.05)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    assert cancels == 1
    assert not task.done()
    released.set()
    await task
