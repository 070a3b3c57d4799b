"""Exceptions as log text without the data they carry.

Database errors describe the failing *values*: SQLAlchemy appends the bound parameters,
asyncpg's message carries PostgreSQL's DETAIL ("Failing row contains (...)", the row with
an API key's hash in it) or the repr of an argument it could not encode. So:

- a database error (one with a ``sqlstate``, or SQLAlchemy's ``statement``) is named by its
  class, SQLSTATE, constraint/table/column names and the SQL text (placeholders only),
  never by its message;
- any other exception keeps its message (log pipelines mask secrets in it afterwards, see
  ``aether.ops.logs.redact_secrets``; callers logging elsewhere run ``redact_text`` on it);
- tracebacks list frames (file, line, function, source line) and these one-line
  descriptions, for the whole cause/context chain; never local variables.
"""

from __future__ import annotations

import traceback
from types import TracebackType

_MAX_SQL = 500
_MAX_MESSAGE = 1000
_NAMED_PARTS = ("constraint_name", "table_name", "column_name", "data_type_name")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _qualified(exc: BaseException) -> str:
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}"


def _database_description(exc: BaseException) -> str | None:
    sqlstate = getattr(exc, "sqlstate", None)
    statement = getattr(exc, "statement", None)
    orig = getattr(exc, "orig", None)
    if sqlstate is None and statement is None:
        return None
    parts = [_qualified(exc)]
    if orig is not None:
        parts.append(f"({_qualified(orig)})")
        sqlstate = sqlstate or getattr(orig, "sqlstate", None)
    if sqlstate:
        parts.append(f"SQLSTATE {sqlstate}")
    for source in (exc, orig):
        for name in _NAMED_PARTS:
            value = getattr(source, name, None)
            if isinstance(value, str) and value:
                parts.append(f"{name.removesuffix('_name')}={value}")
    if isinstance(statement, str):
        parts.append(f"[SQL: {' '.join(statement.split())[:_MAX_SQL]}]")
    return " ".join(dict.fromkeys(parts))  # a part named on both the wrapper and orig once


def describe(exc: BaseException) -> str:
    """One line naming ``exc``; for database errors without their message (see module doc)."""
    database = _database_description(exc)
    if database is not None:
        return database
    message = str(exc)[:_MAX_MESSAGE]
    return f"{_qualified(exc)}: {message}" if message else _qualified(exc)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what led to it (its cause, or the exception being handled), oldest first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        if current.__cause__ is not None or current.__suppress_context__:
            current = current.__cause__
        else:
            current = current.__context__
    return chain[::-1]


def traceback_text(exc: BaseException) -> str:
    """The traceback of ``exc`` and its chain, with each exception as :func:`describe` says."""
    blocks = []
    for item in _chain(exc):
        frames = "".join(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        blocks.append(f"Traceback (most recent call last):\n{frames}{describe(item)}\n")
    return "\nWhich led to:\n\n".join(blocks)


def render_exc_info(exc_info: ExcInfo) -> str:
    """structlog ``ExceptionRenderer`` formatter: :func:`traceback_text` of the exception."""
    return traceback_text(exc_info[1])
