"""The platform's one retry policy shape, built on tenacity: how often to try again and how
long to wait in between.

Rules a caller must know:

* A :class:`RetryPolicy` is the number of attempts (None: until it succeeds), the first
  wait and the longest wait: each wait doubles the one before (exponential backoff) up to
  ``max_wait``, plus up to ``jitter`` random seconds on top (0: the waits are exact).
* :meth:`RetryPolicy.retrying` builds a tenacity ``AsyncRetrying``. Only the exceptions
  named by ``retry_on`` are retried; anything else, cancellation included, propagates at
  once. When the attempts run out, the last exception propagates as itself (never
  tenacity's ``RetryError``), so callers keep their own error messages.
* Where a server says how long to wait (HTTP ``Retry-After``, see
  :func:`retry_after_seconds`), ``hint`` returns those seconds from the exception and they
  replace the backoff for that wait. A hint longer than ``max_wait`` ends the retrying at
  once with that exception: waiting that long is the caller's call, not a retry.

Adapters and services may import this module: it imports tenacity and the standard library
only.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    stop_never,
    wait_exponential,
    wait_fixed,
    wait_random,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

__all__ = ["Hint", "OnWait", "RetryOn", "RetryPolicy", "Sleep", "retry_after_seconds"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
#: The server's requested wait in seconds carried by an exception, or None.
Hint = Callable[[BaseException], float | None]
#: Told before each wait: the exception that is retried and the seconds about to be waited.
OnWait = Callable[[BaseException, float], None]
RetryOn = type[BaseException] | tuple[type[BaseException], ...]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts and backoff: ``first_wait`` doubling up to ``max_wait``, plus jitter."""

    attempts: int | None
    first_wait: float
    max_wait: float = math.inf
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.attempts is not None and self.attempts < 1:
            raise ValueError(f"attempts must be at least 1 (or None), got {self.attempts}")
        if not (math.isfinite(self.first_wait) and self.first_wait >= 0):
            raise ValueError(f"first_wait must be a finite number >= 0, got {self.first_wait}")
        if not self.max_wait >= self.first_wait:
            raise ValueError(f"max_wait must be >= first_wait, got {self.max_wait}")
        if self.attempts is None and math.isinf(self.max_wait):
            raise ValueError("max_wait must be finite when attempts is None (retry forever)")
        if not (math.isfinite(self.jitter) and self.jitter >= 0):
            raise ValueError(f"jitter must be a finite number >= 0, got {self.jitter}")

    @classmethod
    def fixed(cls, wait: float, attempts: int | None = None) -> RetryPolicy:
        """The same wait every time (a reconnect loop's pace)."""
        return cls(attempts=attempts, first_wait=wait, max_wait=wait)

    def backoff(self) -> wait_base:
        """The policy's waits as a tenacity wait strategy (without any server hint)."""
        if self.first_wait == self.max_wait:
            waits: wait_base = wait_fixed(self.first_wait)
        else:
            waits = wait_exponential(multiplier=self.first_wait, max=self.max_wait, exp_base=2)
        if self.jitter > 0:
            waits = waits + wait_random(0, self.jitter)
        return waits

    async def run(
        self,
        call: Callable[[], Awaitable[T]],
        retry_on: RetryOn,
        *,
        sleep: Sleep = asyncio.sleep,
        hint: Hint | None = None,
        on_wait: OnWait | None = None,
    ) -> T:
        """``await call()`` until it succeeds or the policy gives up (see the module rules)."""
        retrying = self.retrying(retry_on, sleep=sleep, hint=hint, on_wait=on_wait)

        async def attempt() -> T:  # a coroutine function, as tenacity needs to await it
            return await call()

        result: T = await retrying(attempt)
        return result

    def retrying(
        self,
        retry_on: RetryOn,
        *,
        sleep: Sleep = asyncio.sleep,
        hint: Hint | None = None,
        on_wait: OnWait | None = None,
    ) -> AsyncRetrying:
        """The tenacity retrier of this policy (:meth:`run` is the usual way in)."""
        stop: stop_base = stop_never if self.attempts is None else stop_after_attempt(self.attempts)
        waits = self.backoff()
        if hint is not None:
            waits = _HintedWait(hint, waits)
            stop = stop_any(stop, _HintTooLong(self.max_wait))
        return AsyncRetrying(
            sleep=sleep,
            stop=stop,
            wait=waits,
            retry=retry_if_exception_type(retry_on),
            before_sleep=None if on_wait is None else _before_sleep(on_wait),
            reraise=True,
        )


def retry_after_seconds(header: str | None, now: float) -> float | None:
    """Seconds to wait from an HTTP ``Retry-After`` header (delta seconds or an HTTP date,
    measured from ``now``, epoch seconds); None when there is no usable header."""
    if header is None or not header.strip():
        return None
    text = header.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now)


def _failure(retry_state: RetryCallState) -> BaseException | None:
    outcome = retry_state.outcome
    return None if outcome is None or not outcome.failed else outcome.exception()


class _HintedWait(wait_base):
    """The server's requested wait when the failure carries one, else the backoff."""

    def __init__(self, hint: Hint, backoff: wait_base) -> None:
        self._hint = hint
        self._backoff = backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = _failure(retry_state)
        hinted = None if failure is None else self._hint(failure)
        return self._backoff(retry_state) if hinted is None else hinted


class _HintTooLong(stop_base):
    """Stops when the next wait (a server's hint) is longer than the policy allows."""

    def __init__(self, max_wait: float) -> None:
        self._max_wait = max_wait

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.upcoming_sleep > self._max_wait


def _before_sleep(on_wait: OnWait) -> Callable[[RetryCallState], None]:
    def tell(retry_state: RetryCallState) -> None:
        failure = _failure(retry_state)
        if failure is not None:
            on_wait(failure, retry_state.upcoming_sleep)

    return tell
