"""Structured JSON logs: request-id correlation, size-based rotation with gzip, redaction.

Secrets never reach a log line: exceptions are rendered by
:mod:`aether.ops.exception_text` (database errors without their messages, which carry bound
values; no local variables), then :func:`redact_secrets` runs on every event, for structlog
and standard-library loggers (uvicorn, SQLAlchemy, Alembic) alike, before anything is
written. Log files, current and rotated, are created readable by their owner only (0600).
"""

from __future__ import annotations

import functools
import gzip
import io
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

from aether.ops.exception_text import render_exc_info

REDACTED = "[REDACTED]"

_SECRET_KEY = re.compile(
    r"password|passwd|secret|token|api[_-]?key|authorization|cookie|private[_-]?key|"
    r"credential|signature|api-sign|(?<![a-z])t?otp(?![a-z])",
    re.IGNORECASE,
)
# Cheap gate (run on the lowered text: case-sensitive search is several times faster): most
# strings contain none of these, and then the patterns below are skipped.
_MAYBE_SECRET = re.compile(r"aek_|bearer|api-|://|pass|secret|token|key")
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # No leading \b: "x_aek_..." must be masked too, and "_" is a word character.
    (re.compile(r"(aek_[A-Za-z0-9]+_)[A-Za-z0-9_-]+"), r"\1***"),
    (re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+"), r"\1***"),
    (re.compile(r"(?i)\b(API-(?:Sign|Key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+"), r"\1***"),
    # key=value (query strings, DSNs) and "key": "value" (reprs of dicts, JSON bodies).
    (
        re.compile(
            r"(?i)((?:password|passwd|secret|token|api[_-]?key|private[_-]?key)"
            r"(?:\s*=\s*|[\"']\s*:\s*)[\"']?)[^\s\"'&,;})\]]+"
        ),
        r"\1***",
    ),
    # scheme://user:password@host, scheme://:password@host, then scheme://token@host.
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@/\s]+@"), r"\1***@"),
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^:/@\s]+@"), r"\1***@"),
)
_MAX_DEPTH = 8
_PLAIN = (bool, int, float, type(None))
# Keys ProcessorFormatter adds for its own use; they are removed before rendering.
_FORMATTER_META = frozenset({"_record", "_from_structlog"})


def redact_text(text: str) -> str:
    """``text`` with API-key secrets, bearer tokens, venue keys/signatures, passwords masked.

    Masks only what the patterns recognise; pass secrets under secret-looking key names
    (``password=...``) rather than relying on this to find them in free text.
    """
    if not _MAYBE_SECRET.search(text.lower()):
        return text
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=4096)
def _is_secret_key(key: str) -> bool:
    # Cached: the same few dozen field names recur on every line.
    return _SECRET_KEY.search(key) is not None


def _redact(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, _PLAIN):
        return value
    if depth >= _MAX_DEPTH:
        return redact_text(str(value))
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = k if isinstance(k, str) else str(k)
            out[key] = REDACTED if _is_secret_key(key) else _redact(v, depth + 1)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(v, depth + 1) for v in value]
    # The JSON renderer would fall back to repr() *after* redaction; stringify first so
    # objects whose text holds a secret (URLs, exceptions, configs) are masked as well.
    return redact_text(str(value))


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask secret-named fields at any depth and secrets inside text.

    Must run after exceptions are rendered (``format_exc_info``) so their text is masked.
    Non-JSON values other than containers are replaced by their (masked) ``str()``.
    """
    for key, value in event_dict.items():
        if key in _FORMATTER_META:
            continue
        event_dict[key] = REDACTED if _is_secret_key(key) else _redact(value)
    return event_dict


def _common_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.stdlib.PositionalArgumentsFormatter(),
    ]


_PRIVATE_FILE = 0o600


def _open_private(path: str, flags: int) -> int:
    """A file descriptor on ``path``, created 0600 whatever the umask, and tightened to 0600
    if it existed with wider permissions."""
    fd = os.open(path, flags, _PRIVATE_FILE)
    os.fchmod(fd, _PRIVATE_FILE)
    return fd


def _gzip_rotator(source: str, dest: str) -> None:
    # Compress to a temporary name first: a crash mid-way must not leave a truncated .gz
    # that later rotations would carry along as if it were a complete backup.
    partial = f"{dest}.partial"
    fd = _open_private(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with (
        open(source, "rb") as src,
        open(fd, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6) as out,
    ):
        shutil.copyfileobj(src, out)
    os.replace(partial, dest)
    os.remove(source)


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler whose files are created 0600 (logs name users and accounts)."""

    def _open(self) -> io.TextIOWrapper:
        fd = _open_private(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def _file_handler(path: Path, max_bytes: int, backups: int) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = _PrivateRotatingFileHandler(
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

    Idempotent: a second call replaces the handlers installed by the first; handlers others
    put on the root logger are left alone. ``level`` is a logging level name (any case;
    unknown names raise ValueError). Rotated files are ``<log_file>.1.gz`` (newest) up to
    ``<log_file>.<backups>.gz``; older ones are deleted. ``json_console=False`` renders the
    console for humans; the file is always JSON.
    """
    common = _common_processors()
    # Exceptions become text first (database errors without the values their messages
    # carry), so what is left passes through the redactor too.
    finish: list[Processor] = [
        structlog.processors.ExceptionRenderer(render_exc_info),
        redact_secrets,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # skip all work for disabled levels
            *common,
            structlog.processors.StackInfoRenderer(),
            *finish,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Cached loggers would keep a stale configuration when this is called again.
        cache_logger_on_first_use=False,
    )

    def formatter(renderer: Processor) -> structlog.stdlib.ProcessorFormatter:
        return structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*common, *finish],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )

    console: Processor = (
        structlog.processors.JSONRenderer()
        if json_console
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    handlers[0].setFormatter(formatter(console))
    if log_file is not None:
        file_handler = _file_handler(log_file, max_bytes, backups)
        file_handler.setFormatter(formatter(structlog.processors.JSONRenderer()))
        handlers.append(file_handler)

    root = logging.getLogger()
    root.setLevel(level.upper())
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    for handler in handlers:
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    # uvicorn installs handlers of its own; let its records reach ours instead.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # One INFO line per outgoing request (health probes, readiness polls) is noise, not news.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def new_request_id() -> str:
    """A fresh request id: 32 lowercase hex characters (uuid4)."""
    return uuid.uuid4().hex


def bind_request_id(request_id: str) -> None:
    """Every line logged in this context (task/thread) carries ``request_id`` until cleared.

    Context variables are copied into tasks started afterwards, so they inherit the id.
    """
    structlog.contextvars.bind_contextvars(request_id=request_id)


def clear_request_context() -> None:
    """Drop everything bound with structlog.contextvars in this context, not just the id."""
    structlog.contextvars.clear_contextvars()
