"""The platform's retry policy: attempts, doubling waits up to a cap, jitter, the server's
requested wait (Retry-After), and which failures are retried at all."""

from __future__ import annotations

import asyncio
import math

import pytest

from aether.ops.retrying import Hint, OnWait, RetryPolicy, retry_after_seconds


class Flaky:
    """Fails with the given exceptions in turn, then answers ``"done"``."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Busy(Exception):
    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("busy")
        self.retry_after = retry_after


def requested(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, Busy) else None


def run(
    policy: RetryPolicy,
    call: Flaky,
    sleeps: Sleeps,
    *,
    hint: Hint | None = None,
    on_wait: OnWait | None = None,
) -> str:
    return asyncio.run(policy.run(call, Busy, sleep=sleeps, hint=hint, on_wait=on_wait))


def busy(n: int) -> Flaky:
    return Flaky(*(Busy() for _ in range(n)))


def test_waits_double_from_the_first_up_to_the_cap() -> None:
    sleeps = Sleeps()
    call = busy(6)
    assert run(RetryPolicy(attempts=None, first_wait=1.0, max_wait=5.0), call, sleeps) == "done"
    assert sleeps.waits == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    assert call.calls == 7


def test_a_fixed_pace_waits_the_same_every_time() -> None:
    sleeps = Sleeps()
    run(RetryPolicy.fixed(0.25), Flaky(Busy(), Busy(), Busy()), sleeps)
    assert sleeps.waits == [0.25, 0.25, 0.25]


def test_the_last_failure_propagates_as_itself_when_the_attempts_run_out() -> None:
    sleeps = Sleeps()
    last = Busy()
    call = Flaky(Busy(), Busy(), last, Busy())
    with pytest.raises(Busy) as caught:
        run(RetryPolicy(attempts=3, first_wait=0.5), call, sleeps)
    assert caught.value is last
    assert call.calls == 3
    assert sleeps.waits == [0.5, 1.0]


def test_failures_not_named_and_cancellation_are_never_retried() -> None:
    sleeps = Sleeps()
    call = Flaky(KeyError("no"))
    with pytest.raises(KeyError):
        run(RetryPolicy(attempts=5, first_wait=0.5), call, sleeps)
    cancelled = Flaky(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        run(RetryPolicy(attempts=5, first_wait=0.5), cancelled, sleeps)
    assert (call.calls, cancelled.calls, sleeps.waits) == (1, 1, [])


def test_jitter_adds_up_to_its_seconds_to_each_wait() -> None:
    sleeps = Sleeps()
    run(RetryPolicy(attempts=None, first_wait=1.0, max_wait=2.0, jitter=0.5), busy(40), sleeps)
    assert len(sleeps.waits) == 40
    assert all(1.0 <= w <= 1.5 for w in sleeps.waits[:1])
    assert all(2.0 <= w <= 2.5 for w in sleeps.waits[1:])
    assert len(set(sleeps.waits)) > 1  # not one fixed value


def test_a_servers_requested_wait_replaces_the_backoff_and_is_counted() -> None:
    sleeps = Sleeps()
    told: list[tuple[str, float]] = []
    call = Flaky(Busy(retry_after=7.0), Busy(), Busy(retry_after=0.0))
    result = run(
        RetryPolicy(attempts=4, first_wait=0.5, max_wait=10.0),
        call,
        sleeps,
        hint=requested,
        on_wait=lambda exc, seconds: told.append((type(exc).__name__, seconds)),
    )
    assert result == "done"
    assert sleeps.waits == [7.0, 1.0, 0.0]  # the second wait is the backoff's
    assert told == [("Busy", 7.0), ("Busy", 1.0), ("Busy", 0.0)]


def test_a_requested_wait_beyond_the_cap_ends_the_retrying_at_once() -> None:
    sleeps = Sleeps()
    too_long = Busy(retry_after=121.0)
    call = Flaky(Busy(retry_after=1.0), too_long)
    with pytest.raises(Busy) as caught:
        run(RetryPolicy(attempts=6, first_wait=2.0, max_wait=120.0), call, sleeps, hint=requested)
    assert caught.value is too_long
    assert sleeps.waits == [1.0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"attempts": 0, "first_wait": 1.0}, "attempts"),
        ({"attempts": 1, "first_wait": -1.0}, "first_wait"),
        ({"attempts": 1, "first_wait": math.nan}, "first_wait"),
        ({"attempts": 1, "first_wait": 2.0, "max_wait": 1.0}, "max_wait"),
        ({"attempts": 1, "first_wait": 1.0, "jitter": -0.1}, "jitter"),
        ({"attempts": None, "first_wait": 1.0}, "max_wait"),
    ],
)
def test_a_policy_that_makes_no_sense_is_refused_naming_the_field(
    kwargs: dict[str, float], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after_seconds("7", now=0.0) == 7.0
    assert retry_after_seconds(" 2 ", now=0.0) == 2.0
    assert retry_after_seconds("Thu, 01 Jan 1970 00:01:00 GMT", now=30.0) == 30.0
    assert retry_after_seconds("Thu, 01 Jan 1970 00:01:00 GMT", now=90.0) == 0.0  # past
    assert retry_after_seconds(None, now=0.0) is None
    assert retry_after_seconds("", now=0.0) is None
    assert retry_after_seconds("soon", now=0.0) is None
