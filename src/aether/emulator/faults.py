"""Faults an operator or a test injects into a running emulator (``POST /emulator/faults``),
to see how a client copes with a slow, failing or disconnecting Kraken.

REST faults are applied by the REST layer (:mod:`.app`): ``latency_ms`` delays every answer
(after the call was carried out, so a client that times out may still have placed its
order), and ``rest_error`` answers the next ``count`` calls (``scope``: public, private or
all) with that Kraken error string instead of carrying them out.

WebSocket faults are state for the WebSocket server to consume:

* :meth:`Faults.take_ws_drop` is True once per requested drop: close every open connection.
  :attr:`Faults.ws_drop_epoch` counts requested drops, for a server that checks per
  connection (drop when the epoch differs from the one seen at connect).
* :meth:`Faults.take_checksum_corruption` is True for each of the next N book messages that
  should carry a wrong checksum (it counts one down per True).
* :attr:`Faults.stalled_until` (this object's clock, ``time.monotonic`` by default) and
  :meth:`Faults.stalled`: while stalled, the feed sends nothing (updates are held or
  dropped, as the WebSocket server decides).

``parse_faults`` checks the admin JSON: unknown keys and bad types raise :class:`FaultError`
naming the field.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SCOPES",
    "FaultError",
    "FaultRequest",
    "Faults",
    "parse_faults",
]

SCOPES = ("all", "public", "private")
MAX_LATENCY_MS = 60_000
MAX_STALL_S = 3_600
MAX_COUNT = 1_000_000
# Kraken's error shape: severity E or W, a category, a message (extra ":" parts allowed).
_KRAKEN_ERROR = re.compile(r"[EW][A-Za-z]+:[ -~]{1,200}")
_FIELDS = (
    "latency_ms",
    "rest_error",
    "count",
    "scope",
    "ws_drop",
    "book_checksum_corrupt",
    "stall_s",
    "clear",
)


class FaultError(ValueError):
    """A refused faults request; the message names the field."""


@dataclass(frozen=True, slots=True)
class FaultRequest:
    """A checked ``POST /emulator/faults`` body; None leaves that fault as it is."""

    clear: bool = False
    latency_ms: float | None = None
    rest_error: str | None = None
    count: int = 1
    scope: str = "all"
    ws_drop: bool = False
    book_checksum_corrupt: int | None = None
    stall_s: float | None = None


def _number(body: Mapping[str, Any], name: str, high: float) -> float | None:
    if name not in body:
        return None
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"{name}: expected a number, got {value!r}")
    if not math.isfinite(value) or not 0 <= value <= high:
        raise FaultError(f"{name}: must be between 0 and {high:g}, got {value!r}")
    return float(value)


def _integer(body: Mapping[str, Any], name: str, low: int) -> int | None:
    if name not in body:
        return None
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultError(f"{name}: expected an integer, got {value!r}")
    if not low <= value <= MAX_COUNT:
        raise FaultError(f"{name}: must be between {low} and {MAX_COUNT}, got {value!r}")
    return value


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise FaultError(f"{name}: expected true or false, got {value!r}")
    return value


def parse_faults(body: object) -> FaultRequest:
    """Check a faults body, e.g. ``{"rest_error": "EService:Unavailable", "count": 3}``."""
    if not isinstance(body, dict):
        raise FaultError('the body must be a JSON object like {"latency_ms": 200}')
    unknown = sorted(str(k) for k in body if k not in _FIELDS)
    if unknown:
        raise FaultError(f"unknown field {unknown[0]!r}; expected one of {', '.join(_FIELDS)}")
    if not body:
        raise FaultError(f"give at least one of {', '.join(_FIELDS)}")
    rest_error = body.get("rest_error")
    if rest_error is not None and (
        not isinstance(rest_error, str) or not _KRAKEN_ERROR.fullmatch(rest_error)
    ):
        raise FaultError(
            f'rest_error: expected a Kraken error string like "EService:Unavailable", '
            f"got {rest_error!r}"
        )
    count = _integer(body, "count", 1)
    scope = body.get("scope", "all")
    if ("count" in body or "scope" in body) and rest_error is None:
        name = "count" if "count" in body else "scope"
        raise FaultError(f"{name}: only goes with rest_error")
    if scope not in SCOPES:
        raise FaultError(f"scope: expected one of {', '.join(SCOPES)}, got {scope!r}")
    corrupt = _integer(body, "book_checksum_corrupt", 0)
    return FaultRequest(
        clear=_flag(body, "clear"),
        latency_ms=_number(body, "latency_ms", MAX_LATENCY_MS),
        rest_error=rest_error,
        count=1 if count is None else count,
        scope=scope,
        ws_drop=_flag(body, "ws_drop"),
        book_checksum_corrupt=corrupt,
        stall_s=_number(body, "stall_s", MAX_STALL_S),
    )


class Faults:
    """The faults in force on one runtime. ``clock`` is seconds (``time.monotonic``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.latency_ms = 0.0
        self.rest_error: str | None = None
        self.rest_error_left = 0
        self.rest_error_scope = "all"
        self.ws_drop_epoch = 0
        self._ws_drops_pending = 0
        self.checksum_corruptions_left = 0
        self.stalled_until = 0.0

    def now(self) -> float:
        return self._clock()

    def clear(self) -> None:
        """Back to a healthy exchange (the drop epoch keeps counting)."""
        self.latency_ms = 0.0
        self.rest_error, self.rest_error_left, self.rest_error_scope = None, 0, "all"
        self._ws_drops_pending = 0
        self.checksum_corruptions_left = 0
        self.stalled_until = 0.0

    def apply(self, request: FaultRequest) -> None:
        """Put a checked request in force: ``clear`` first, then each fault it names."""
        if request.clear:
            self.clear()
        if request.latency_ms is not None:
            self.latency_ms = request.latency_ms
        if request.rest_error is not None:
            self.rest_error = request.rest_error
            self.rest_error_left = request.count
            self.rest_error_scope = request.scope
        if request.ws_drop:
            self.ws_drop_epoch += 1
            self._ws_drops_pending += 1
        if request.book_checksum_corrupt is not None:
            self.checksum_corruptions_left = request.book_checksum_corrupt
        if request.stall_s is not None:
            self.stalled_until = self.now() + request.stall_s if request.stall_s else 0.0

    # --- REST ----------------------------------------------------------------------------

    def take_rest_error(self, scope: str) -> str | None:
        """The error to answer this ``public`` or ``private`` call with, counting it."""
        if self.rest_error is None or self.rest_error_scope not in ("all", scope):
            return None
        error = self.rest_error
        self.rest_error_left -= 1
        if self.rest_error_left <= 0:
            self.rest_error, self.rest_error_left, self.rest_error_scope = None, 0, "all"
        return error

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1000

    # --- WebSocket -----------------------------------------------------------------------

    def take_ws_drop(self) -> bool:
        """True once per requested drop: the WebSocket server closes every connection."""
        if self._ws_drops_pending <= 0:
            return False
        self._ws_drops_pending -= 1
        return True

    def take_checksum_corruption(self) -> bool:
        """True when this book message's checksum should be wrong (counts one down)."""
        if self.checksum_corruptions_left <= 0:
            return False
        self.checksum_corruptions_left -= 1
        return True

    def stalled(self) -> bool:
        """Whether the WebSocket feed is stalled now."""
        return self.now() < self.stalled_until

    def state(self) -> dict[str, Any]:
        """``GET /emulator/faults``."""
        return {
            "latency_ms": self.latency_ms,
            "rest_error": self.rest_error,
            "rest_error_left": self.rest_error_left,
            "rest_error_scope": self.rest_error_scope,
            "ws_drop_pending": self._ws_drops_pending,
            "ws_drop_epoch": self.ws_drop_epoch,
            "book_checksum_corrupt": self.checksum_corruptions_left,
            "stall_remaining_s": round(max(0.0, self.stalled_until - self.now()), 3),
        }
