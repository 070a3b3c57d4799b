"""Put logging back as it was after a test that called ``configure_logging``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from aether.ops.logs import clear_request_context

_TOUCHED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


@contextmanager
def restored_logging() -> Iterator[None]:
    """Root handlers and level, the uvicorn loggers, structlog's configuration and context
    are restored on exit; handlers added meanwhile are closed."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    touched = {
        name: (list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
        for name in _TOUCHED_LOGGERS
    }
    was_configured, config = structlog.is_configured(), structlog.get_config()
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)
        for name, (old_handlers, propagate) in touched.items():
            logging.getLogger(name).handlers[:] = old_handlers
            logging.getLogger(name).propagate = propagate
        clear_request_context()
        structlog.reset_defaults()
        if was_configured:
            structlog.configure(**config)
