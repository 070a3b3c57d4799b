"""What the ingest follows: the stored subscriptions and the change messages about them."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import orjson

from aether.bus.subjects import SUBSCRIBABLE_KINDS, market_subject

_SUBSCRIPTIONS_SQL = (
    "SELECT s.symbol, i.ws_symbol, s.kinds FROM market_subscriptions s "
    "JOIN instruments i ON i.symbol = s.symbol"
)


@dataclass(frozen=True, slots=True)
class Followed:
    """One followed pair: altname, v2 name and channels (empty: not followed)."""

    symbol: str
    ws_symbol: str
    kinds: frozenset[str]


async def read_subscriptions(conn: asyncpg.Connection) -> dict[str, Followed]:
    """Altname -> the stored subscription, with the v2 name from ``instruments``."""
    rows = await conn.fetch(_SUBSCRIPTIONS_SQL)
    return {r["symbol"]: Followed(r["symbol"], r["ws_symbol"], frozenset(r["kinds"])) for r in rows}


def parse_change(data: bytes) -> Followed:
    """A ``SUBSCRIPTIONS_CHANGED`` payload; raises ValueError naming what is wrong."""
    try:
        change = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(change, dict):
        raise ValueError("a subscription change must be a JSON object")
    symbol, ws_symbol, kinds = change.get("symbol"), change.get("ws_symbol"), change.get("kinds")
    if not isinstance(symbol, str) or not isinstance(ws_symbol, str):
        raise ValueError("'symbol' and 'ws_symbol' must be strings")
    if not isinstance(kinds, list) or not set(kinds) <= set(SUBSCRIBABLE_KINDS):
        raise ValueError(f"'kinds' must be a list of {', '.join(SUBSCRIBABLE_KINDS)}")
    market_subject(symbol, "status")  # refuses a symbol that cannot be part of a subject
    return Followed(symbol, ws_symbol, frozenset(kinds))
