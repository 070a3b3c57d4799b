"""Daily drawdown guard: halts an account whose equity falls too far within one UTC day.

The day's reference is the first positive equity seen in the UTC day (``ts_ns //
NS_PER_DAY``). Past the limit the guard goes HALTED and stays so for the rest of that day,
however equity recovers: a halt is a decision to stop for the day, not a price level. At
the first equity of the next UTC day it resumes (ACTIVE, with the new day's start), unless
an admin resumes earlier with :meth:`DrawdownGuard.reset`.

Time is always an argument (UTC epoch nanoseconds); the guard never reads a clock.
:meth:`DrawdownGuard.on_equity` runs on every bar of a backtest, so its common path is two
comparisons and allocates nothing.
"""

from __future__ import annotations

from decimal import Decimal

from aether.domain.accounts import TradingState

NS_PER_DAY = 86_400 * 1_000_000_000

_ACTIVE = TradingState.ACTIVE
_HALTED = TradingState.HALTED
# Below any equity: a floor that never trips (no limit, or no reference yet).
_NO_FLOOR = Decimal("-Infinity")
# Below any timestamp: forces the slow path on the next call.
_ALWAYS = -(1 << 127)


class DrawdownGuard:
    """Tracks one account's equity against ``limit``, a fraction of the day's start
    (``Decimal("0.05")`` halts once equity is more than 5 % below it). ``None`` never halts.

    Halting happens when ``(day_start - equity) / day_start > limit``, i.e. exactly at the
    limit is still allowed. A non-positive equity never becomes the day's reference (there
    is no fraction of nothing to lose); the first positive one does.
    """

    __slots__ = (
        "_day",
        "_day_start",
        "_floor",
        "_halted_since_ns",
        "_keep",
        "_limit",
        "_reason",
        "_slow_from_ns",
        "_state",
    )

    def __init__(self, limit: Decimal | None) -> None:
        if limit is not None and (
            not isinstance(limit, Decimal) or not limit.is_finite() or not 0 < limit <= 1
        ):
            raise ValueError(f"drawdown limit is a fraction in (0, 1] or None, got {limit!r}")
        self._limit = limit
        # equity < day_start * keep  <=>  (day_start - equity) / day_start > limit, for a
        # positive day_start; the product form is exact where the division would round.
        self._keep = None if limit is None else 1 - limit
        self._day: int | None = None
        self._day_start: Decimal | None = None
        self._floor = _NO_FLOOR
        self._slow_from_ns = _ALWAYS
        self._state = _ACTIVE
        self._halted_since_ns: int | None = None
        self._reason = ""

    @property
    def limit(self) -> Decimal | None:
        return self._limit

    @property
    def state(self) -> TradingState:
        return self._state

    @property
    def halted_since_ns(self) -> int | None:
        return self._halted_since_ns

    @property
    def reason(self) -> str:
        """Why the guard halted, with the numbers; empty while ACTIVE."""
        return self._reason

    @property
    def day_start(self) -> Decimal | None:
        """The current day's reference equity, or None before one has been seen."""
        return self._day_start

    def on_equity(self, ts_ns: int, equity: Decimal) -> TradingState:
        """Record the account's equity at ``ts_ns`` and return the trading state."""
        if ts_ns >= self._slow_from_ns:
            return self._observe(ts_ns, equity)
        if self._state is _HALTED:
            return _HALTED
        if equity < self._floor:
            return self._halt(ts_ns, equity)
        return _ACTIVE

    def reset(self, ts_ns: int) -> None:
        """An admin resumes trading now. Drawdown is measured afresh from the next equity,
        which would otherwise re-trip the guard at once."""
        day = ts_ns // NS_PER_DAY
        self._start_day(day if self._day is None else max(day, self._day))

    # --- slow path ----------------------------------------------------------------------
    def _start_day(self, day: int) -> None:
        self._day = day
        self._day_start = None
        self._floor = _NO_FLOOR
        self._slow_from_ns = _ALWAYS  # until a reference equity is seen
        self._state = _ACTIVE
        self._halted_since_ns = None
        self._reason = ""

    def _observe(self, ts_ns: int, equity: Decimal) -> TradingState:
        """Reached only without a reference equity: on a new day, after a reset, or while
        equity has not yet been positive. So the state is ACTIVE, and stays so on this call:
        the first reference cannot be below itself."""
        day = ts_ns // NS_PER_DAY
        # A late timestamp from an earlier day belongs to the current day: it must not
        # restart the day (and lift a halt).
        if self._day is None or day > self._day:
            self._start_day(day)
        if equity > 0:
            self._day_start = equity
            if self._keep is not None:
                self._floor = equity * self._keep
            assert self._day is not None
            self._slow_from_ns = (self._day + 1) * NS_PER_DAY
        return self._state

    def _halt(self, ts_ns: int, equity: Decimal) -> TradingState:
        start = self._day_start
        assert start is not None
        assert self._limit is not None
        self._state = _HALTED
        self._halted_since_ns = ts_ns
        drawdown = (start - equity) / start
        self._reason = (
            f"daily drawdown {drawdown:.4%} exceeds the limit {self._limit:.4%}: equity "
            f"{equity} against the day's start {start}, halted until the next UTC day"
        )
        return _HALTED
