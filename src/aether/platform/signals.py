"""Serving until SIGINT or SIGTERM, so a signal still lets the foreground run clean up."""

from __future__ import annotations

import signal
from types import FrameType

import structlog
import uvicorn

log = structlog.get_logger("aether.platform")


class _ShutdownRequested(Exception):
    """SIGTERM arrived; unwinds to run_foreground's cleanup like Ctrl-C does."""


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    raise _ShutdownRequested


def serve_until_signalled(server: uvicorn.Server) -> None:
    """Run uvicorn until SIGINT or SIGTERM, then return normally.

    uvicorn shuts down gracefully on either signal and then re-raises it. With the default
    SIGTERM disposition that would kill the process before the embedded servers are
    stopped, so SIGTERM is turned into an exception for the duration.
    """
    previous = signal.signal(signal.SIGTERM, _raise_shutdown)
    try:
        server.run()
    except (KeyboardInterrupt, _ShutdownRequested):
        log.info("shutdown signal handled")
    finally:
        signal.signal(signal.SIGTERM, previous)
