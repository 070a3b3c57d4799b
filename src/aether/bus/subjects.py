"""Subject names on the bus. One place, so publishers and subscribers cannot drift apart.

Market data is ``md.<venue>.<SYMBOL>.<kind>`` with the REST altname as the symbol
(``md.kraken.XBTUSD.trade``). ``status`` carries a pair's feed state (stale, fresh, gap).
"""

from __future__ import annotations

import re
from typing import Final, Literal

MarketKind = Literal["book", "trade", "ticker", "ohlc", "status"]
MARKET_KINDS: Final[tuple[MarketKind, ...]] = ("book", "trade", "ticker", "ohlc", "status")
#: Channels a subscription may ask for (``status`` always flows for a subscribed pair).
SUBSCRIBABLE_KINDS: Final[tuple[str, ...]] = ("book", "trade", "ticker", "ohlc")

#: A REST altname such as ``XBTUSD``: also a safe subject token.
SYMBOL_PATTERN: Final = re.compile(r"^[A-Z0-9]{2,32}$")


def is_symbol(text: str) -> bool:
    """Whether ``text`` has the shape of an altname (not whether the pair exists)."""
    return SYMBOL_PATTERN.match(text) is not None


class SubjectError(ValueError):
    """A symbol or kind that cannot be part of a subject."""


def market_subject(symbol: str, kind: str, venue: str = "kraken") -> str:
    """``md.kraken.XBTUSD.trade``; refuses symbols that could break the subject's tokens."""
    if not is_symbol(symbol):
        raise SubjectError(f"symbol {symbol!r} is not an upper-case altname such as XBTUSD")
    if kind not in MARKET_KINDS:
        raise SubjectError(f"kind {kind!r} is not one of {', '.join(MARKET_KINDS)}")
    return f"md.{venue}.{symbol}.{kind}"


def market_wildcard(venue: str = "kraken") -> str:
    """Every market-data subject of a venue (what the market-data stream captures)."""
    return f"md.{venue}.>"


#: Subscription changes made through the API: ``{"symbol", "ws_symbol", "kinds"}`` (empty
#: ``kinds`` means removed). The ingest also re-reads the table, so a lost message heals.
SUBSCRIPTIONS_CHANGED: Final = "ctl.marketdata.subscriptions"


#: An order event kind: lower case and underscores (``created``, ``accepted``, ``fill``).
ORDER_KIND_PATTERN: Final = re.compile(r"^[a-z][a-z_]{0,31}$")


def order_subject(account_id: str, kind: str) -> str:
    """``orders.<account id>.<kind>``: one account's order events (the account's UUID)."""
    if not re.fullmatch(r"[0-9a-f-]{36}", account_id):
        raise SubjectError(f"account id {account_id!r} is not a lower-case UUID")
    if not ORDER_KIND_PATTERN.match(kind):
        raise SubjectError(f"order event kind {kind!r} is not lower case with underscores")
    return f"orders.{account_id}.{kind}"


def order_wildcard(account_id: str | None = None) -> str:
    """Every order event subject of one account, or of all accounts."""
    return f"orders.{account_id}.>" if account_id else "orders.>"
