"""Resumable import cursors in the ``import_progress`` table.

A cursor is a small JSON object per job (``backfill:XBTUSD``, ``coingecko:bitcoin``, ...).
Save it in the same transaction as the rows it covers, so a crash never leaves a cursor
ahead of the data (the worst case is a page fetched twice, which the store deduplicates).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import asyncpg

from aether.marketdata.imports.errors import ImportInputError


async def load_cursor(conn: asyncpg.Connection, job: str) -> dict[str, Any] | None:
    """The saved cursor of ``job``, or None when the job never stored anything.

    A cursor that is not a JSON object is refused (ImportInputError naming the job), never
    silently restarted from scratch.
    """
    text = await conn.fetchval("SELECT cursor FROM import_progress WHERE job = $1", job)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ImportInputError(
            f"import_progress cursor of job {job!r} is not a JSON object: {text[:80]!r}; "
            "delete that row to start the job over"
        )
    return value


async def save_cursor(conn: asyncpg.Connection, job: str, cursor: Mapping[str, Any]) -> None:
    """Insert or replace ``job``'s cursor (call it inside the transaction of the rows)."""
    await conn.execute(
        "INSERT INTO import_progress (job, cursor, updated_at) VALUES ($1, $2, now()) "
        "ON CONFLICT (job) DO UPDATE SET cursor = excluded.cursor, updated_at = now()",
        job,
        json.dumps(dict(cursor), sort_keys=True),
    )


def cursor_int(cursor: Mapping[str, Any], job: str, key: str) -> int:
    """``cursor[key]`` as an integer, else ImportInputError naming the job and key."""
    value = cursor.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ImportInputError(
            f"import_progress cursor of job {job!r} has no integer {key!r}: {dict(cursor)!r}; "
            "delete that row to start the job over"
        )
    return value
