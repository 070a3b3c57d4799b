"""Structured JSON logs: request-id correlation, size-based rotation with gzip, redaction.

Secrets never reach a log line: :func:`redact_secrets` runs on every event, for structlog
and standard-library loggers (uvicorn, SQLAlchemy, Alembic) alike.
"""

from __future__ import annotations

import gzip
import logging
import logging.handlers
import os
import re
import shutil
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"password|passwd|secret|token|api[_-]?key|authorization|cookie|private[_-]?key|"
    r"(^|_)otp($|_)|credential|signature|api-sign",
    re.IGNORECASE,
)
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(aek_[A-Za-z0-9]+_)[A-Za-z0-9_-]+"), r"\1***"),
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1***"),
    (re.compile(r"(?i)\b(API-(?:Sign|Key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+"), r"\1***"),
    # scheme://user:password@host, scheme://:password@host and scheme://token@host
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@", re.IGNORECASE), r"\1***@"),
    (re.compile(r"([a-z][a-z0-9+.-]*://)[^:/@\s]+@", re.IGNORECASE), r"\1***@"),
)


def redact_text(text: str) -> str:
    """``text`` with API keys, bearer tokens, venue signatures and URL passwords masked."""
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else _redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secret-named fields at any depth and secrets inside text."""
    for key, value in list(event_dict.items()):
        if _SECRET_KEY.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(value)
    return event_dict


def _render_exceptions_then_redact() -> list[Processor]:
    # Exceptions become text first, so their messages pass through the redactor too.
    return [structlog.processors.format_exc_info, redact_secrets]


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.stdlib.PositionalArgumentsFormatter(),
    ]


def _gzip_rotator(source: str, dest: str) -> None:
    with open(source, "rb") as src, gzip.open(dest, "wb") as out:
        shutil.copyfileobj(src, out)
    os.remove(source)


def _file_handler(path: Path, max_bytes: int, backups: int) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    handler.namer = lambda name: f"{name}.gz"
    handler.rotator = _gzip_rotator
    return handler


_HANDLER_MARK = "_aether_handler"


def configure_logging(
    *,
    level: str = "INFO",
    log_file: Path | None = None,
    max_bytes: int = 20_000_000,
    backups: int = 10,
    json_console: bool = True,
) -> None:
    """Route structlog and standard logging to JSON lines on stderr (and ``log_file``).

    Idempotent: a second call replaces the handlers of the first. Rotated files are
    ``<log_file>.N.gz``; at most ``backups`` of them are kept.
    """
    shared = _shared_processors()
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if json_console
        else structlog.dev.ConsoleRenderer(colors=False)
    )

    def formatter(final: Processor) -> structlog.stdlib.ProcessorFormatter:
        return structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *_render_exceptions_then_redact(),
                final,
            ],
        )

    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    handlers[0].setFormatter(formatter(renderer))
    if log_file is not None:
        file_handler = _file_handler(log_file, max_bytes, backups)
        file_handler.setFormatter(formatter(structlog.processors.JSONRenderer()))
        handlers.append(file_handler)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(level)
    # uvicorn installs handlers of its own; let its records reach ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def new_request_id() -> str:
    return uuid.uuid4().hex


def bind_request_id(request_id: str) -> None:
    """Every line logged in this context (task) carries ``request_id`` until cleared."""
    structlog.contextvars.bind_contextvars(request_id=request_id)


def clear_request_context() -> None:
    structlog.contextvars.clear_contextvars()
