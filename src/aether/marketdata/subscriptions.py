"""Which pairs the ingest follows: validation, storage, audit and the change announcement.

Market data is platform-wide (one feed serves every account), so changing a subscription is a
platform-administration action. Each change is stored in ``market_subscriptions`` (it
survives restarts), audited in the caller's transaction, and, after the commit, announced on
``bus.subjects.SUBSCRIPTIONS_CHANGED`` as ``{"symbol", "ws_symbol", "kinds"}`` (``kinds``
empty when removed) so the ingest changes that one pair's channels and nothing else.

Pairs are named however a client types them (``XBTUSD``, ``BTC/USD``, ``XXBTZUSD``: see
``pair_names``); what is stored, audited, announced and answered is the altname.

Seeding: on the very first start (no subscription stored and none ever audited), the
configured seed pairs that the registry lists as online are subscribed to every channel.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit import log as audit
from aether.bus.subjects import SUBSCRIBABLE_KINDS
from aether.marketdata.pair_names import canonical_pair, registry_pair_names
from aether.marketdata.registry import ONLINE
from aether.storage.tables import (
    AuditRow,
    InstrumentRefreshRow,
    InstrumentRow,
    MarketSubscriptionRow,
)
from aether.venues.kraken.pair_names import UnknownPairError

AUDIT_PREFIX = "market_subscription."


class SubscriptionError(ValueError):
    """A request the subscriptions cannot take; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Subscription:
    symbol: str
    ws_symbol: str
    kinds: tuple[str, ...]
    created_at: datetime
    created_by: str


def change_message(symbol: str, ws_symbol: str, kinds: Sequence[str]) -> bytes:
    """The payload announced on SUBSCRIPTIONS_CHANGED (``kinds`` empty: removed)."""
    return json.dumps({"symbol": symbol, "ws_symbol": ws_symbol, "kinds": list(kinds)}).encode()


def validate_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """The kinds in canonical order, without repeats; refuses an empty list or unknown kinds."""
    wanted = list(kinds)
    for kind in wanted:
        if kind not in SUBSCRIBABLE_KINDS:
            raise SubscriptionError(
                "kinds",
                f"unknown kind {kind!r}: subscribe to any of {', '.join(SUBSCRIBABLE_KINDS)}",
            )
    if not wanted:
        raise SubscriptionError("kinds", f"name at least one of {', '.join(SUBSCRIBABLE_KINDS)}")
    return tuple(k for k in SUBSCRIBABLE_KINDS if k in wanted)


async def _last_skipped(session: AsyncSession) -> dict[str, str]:
    latest = await session.scalar(
        select(InstrumentRefreshRow.skipped).order_by(InstrumentRefreshRow.id.desc()).limit(1)
    )
    return dict(latest or {})


async def pair_symbol(session: AsyncSession, typed: str) -> str:
    """The registry's symbol of a typed pair name, else SubscriptionError naming what was
    typed (and, for a pair the last load skipped under that altname, why)."""
    try:
        return await canonical_pair(session, typed)
    except UnknownPairError as exc:
        reason = (await _last_skipped(session)).get(typed.strip().upper())
        message = f"{exc.refusal}: {reason}" if reason is not None else str(exc)
        raise SubscriptionError("symbol", message) from None


async def online_instrument(session: AsyncSession, typed: str) -> InstrumentRow:
    """The registry's row of the pair ``typed`` names if it is an online USD pair, else
    SubscriptionError naming the pair and why (not a USD pair, not online, unknown)."""
    symbol = await pair_symbol(session, typed)
    row = await session.get(InstrumentRow, symbol)
    if row is not None and row.status == ONLINE:
        return row
    if row is not None:
        raise SubscriptionError("symbol", f"{symbol} is not online in the registry: {row.status}")
    # Named through the shipped snapshot: the registry has stored no pair yet.
    raise SubscriptionError("symbol", f"{symbol} is not a pair the instrument registry knows")


def _of(row: MarketSubscriptionRow, ws_symbol: str) -> Subscription:
    return Subscription(row.symbol, ws_symbol, tuple(row.kinds), row.created_at, row.created_by)


async def list_all(session: AsyncSession) -> list[Subscription]:
    """Every stored subscription, by symbol."""
    rows = await session.execute(
        select(MarketSubscriptionRow, InstrumentRow.ws_symbol)
        .join(InstrumentRow, InstrumentRow.symbol == MarketSubscriptionRow.symbol)
        .order_by(MarketSubscriptionRow.symbol)
    )
    return [_of(sub, ws) for sub, ws in rows.all()]


async def subscribe(
    session: AsyncSession, symbol: str, kinds: Iterable[str], *, actor: str
) -> Subscription:
    """Set the channels of the pair ``symbol`` names to ``kinds`` (creating or replacing),
    audited; caller commits."""
    chosen = validate_kinds(kinds)
    instrument = await online_instrument(session, symbol)
    symbol = instrument.symbol
    previous = await session.get(MarketSubscriptionRow, symbol)
    before = list(previous.kinds) if previous is not None else []
    stmt = insert(MarketSubscriptionRow).values(symbol=symbol, kinds=list(chosen), created_by=actor)
    stmt = stmt.on_conflict_do_update(index_elements=["symbol"], set_={"kinds": list(chosen)})
    await session.execute(stmt)
    await audit.append(
        session,
        actor=actor,
        action=AUDIT_PREFIX + "set",
        details={"symbol": symbol, "kinds": list(chosen), "previous_kinds": before},
    )
    row = await session.get(MarketSubscriptionRow, symbol, populate_existing=True)
    assert row is not None  # just written in this transaction
    return _of(row, instrument.ws_symbol)


async def unsubscribe(session: AsyncSession, symbol: str, *, actor: str) -> Subscription | None:
    """Remove ``symbol``'s subscription, audited (None when there was none); caller commits.
    ``symbol`` is the altname (see :func:`pair_symbol`)."""
    row = await session.get(MarketSubscriptionRow, symbol)
    if row is None:
        return None
    instrument = await session.get(InstrumentRow, symbol)
    removed = _of(row, instrument.ws_symbol if instrument is not None else "")
    await session.execute(
        delete(MarketSubscriptionRow).where(MarketSubscriptionRow.symbol == symbol)
    )
    await audit.append(
        session,
        actor=actor,
        action=AUDIT_PREFIX + "removed",
        details={"symbol": symbol, "kinds": list(removed.kinds)},
    )
    return removed


async def seed(session: AsyncSession, symbols: Sequence[str], *, actor: str) -> list[Subscription]:
    """On the very first start, subscribe the online ``symbols`` to every channel; caller
    commits. Nothing happens once any subscription exists or has ever been changed (an
    operator who removed every pair does not get the seed back on the next restart)."""
    if await session.scalar(select(func.count()).select_from(MarketSubscriptionRow)):
        return []
    touched = await session.scalar(
        select(func.count()).select_from(AuditRow).where(AuditRow.action.startswith(AUDIT_PREFIX))
    )
    if touched:
        return []
    names = await registry_pair_names(session)
    wanted = {typed: names.find(typed) for typed in symbols}
    online = (
        await session.scalars(
            select(InstrumentRow.symbol).where(
                InstrumentRow.symbol.in_([s for s in wanted.values() if s is not None]),
                InstrumentRow.status == ONLINE,
            )
        )
    ).all()
    seeded: list[Subscription] = []
    for symbol in sorted(online):
        stmt = insert(MarketSubscriptionRow).values(
            symbol=symbol, kinds=list(SUBSCRIBABLE_KINDS), created_by=actor
        )
        await session.execute(stmt.on_conflict_do_nothing(index_elements=["symbol"]))
        row = await session.get(MarketSubscriptionRow, symbol, populate_existing=True)
        instrument = await session.get(InstrumentRow, symbol)
        if row is not None and instrument is not None:
            seeded.append(_of(row, instrument.ws_symbol))
    if seeded:
        await audit.append(
            session,
            actor=actor,
            action=AUDIT_PREFIX + "seeded",
            details={
                "symbols": [s.symbol for s in seeded],
                "kinds": list(SUBSCRIBABLE_KINDS),
                "not_online": sorted(t for t, s in wanted.items() if s not in online),
            },
        )
    return seeded
