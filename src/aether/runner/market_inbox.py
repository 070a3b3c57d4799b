"""Market events from the bus, delivered to each account runner that trades the pair.

Rules a caller must know:

* One core NATS subscription per pair and kind (``trade``, ``book``, ``status``), shared by
  every account of this process that trades the pair; each account has its own inbox and
  tasks (market events, and its orders), so nothing one account waits for holds up another.
  Books go only to accounts that use them (paper accounts' SimBrokers).
* An account's events are handled one at a time, in the order they arrived. An inbox holds
  at most ``capacity`` events; when it is full the newest is dropped and counted
  (``dropped``): a runner that cannot keep up is visible, never silently late forever.
* A payload that does not decode is counted (``undecodable``) and skipped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from aether.bus.subjects import market_subject
from aether.domain.events import BookSnapshot, MarketDataStatus, Tick
from aether.marketdata import wire
from aether.ops.tasks import stop_task
from aether.runner.account_runner import AccountRunner, MarketEvent

__all__ = ["FOLLOWED_KINDS", "MarketInbox"]

log = structlog.get_logger("aether.runner")

FOLLOWED_KINDS = ("trade", "book", "status")
INBOX_CAPACITY = 50_000


@dataclass(slots=True)
class _Account:
    runner: AccountRunner
    queue: asyncio.Queue[MarketEvent]
    tasks: tuple[asyncio.Task[None], ...] = ()


@dataclass
class MarketInbox:
    """The bus side of every account runner of one process."""

    capacity: int = INBOX_CAPACITY
    dropped: Counter[uuid.UUID] = field(default_factory=Counter)
    undecodable: int = 0
    _client: Client | None = None
    _accounts: dict[uuid.UUID, _Account] = field(default_factory=dict)
    _subscriptions: dict[str, Subscription] = field(default_factory=dict)
    _by_symbol: dict[str, set[uuid.UUID]] = field(default_factory=dict)

    async def connect(self, client: Client) -> None:
        """Use ``client`` (after every new connection): subscribe every followed pair."""
        self._client = client
        self._subscriptions.clear()
        for symbol in list(self._by_symbol):
            await self._follow(symbol)

    async def add(self, runner: AccountRunner) -> None:
        """Start delivering the account's pairs to ``runner``."""
        queue: asyncio.Queue[MarketEvent] = asyncio.Queue(self.capacity)
        entry = _Account(runner, queue)
        name = f"runner-{runner.account_id}"
        entry.tasks = (
            asyncio.create_task(self._drain(entry), name=f"{name}-market"),
            asyncio.create_task(runner.send_forever(), name=f"{name}-orders"),
        )
        self._accounts[runner.account_id] = entry
        for symbol in runner.pairs:
            holders = self._by_symbol.setdefault(symbol, set())
            holders.add(runner.account_id)
            if len(holders) == 1:
                await self._follow(symbol)

    async def remove(self, account_id: uuid.UUID) -> None:
        """Stop delivering to the account (its current event finishes or is cancelled)."""
        entry = self._accounts.pop(account_id, None)
        if entry is None:
            return
        for task in entry.tasks:
            await stop_task(task)
        for symbol in entry.runner.pairs:
            holders = self._by_symbol.get(symbol, set())
            holders.discard(account_id)
            if not holders:
                self._by_symbol.pop(symbol, None)
                await self._unfollow(symbol)

    async def close(self) -> None:
        for account_id in list(self._accounts):
            await self.remove(account_id)

    def subscribed(self, symbol: str) -> bool:
        """Whether the pair's events are subscribed on the current connection."""
        return all(market_subject(symbol, k) in self._subscriptions for k in FOLLOWED_KINDS)

    def failed(self) -> list[tuple[uuid.UUID, BaseException]]:
        """Accounts whose market or order task ended with an error (the process stops
        running them)."""
        found = []
        for account_id, entry in self._accounts.items():
            for task in entry.tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    error = task.exception()
                    assert error is not None
                    found.append((account_id, error))
                    break
        return found

    # --- the bus ------------------------------------------------------------------------
    async def _follow(self, symbol: str) -> None:
        if self._client is None or not self._client.is_connected:
            return  # subscribed on connect
        for kind in FOLLOWED_KINDS:
            subject = market_subject(symbol, kind)
            if subject not in self._subscriptions:
                self._subscriptions[subject] = await self._client.subscribe(
                    subject, cb=self._received
                )

    async def _unfollow(self, symbol: str) -> None:
        for kind in FOLLOWED_KINDS:
            sub = self._subscriptions.pop(market_subject(symbol, kind), None)
            if sub is not None and self._client is not None and self._client.is_connected:
                await sub.unsubscribe()

    async def _received(self, msg: Msg) -> None:
        try:
            event = wire.decode(msg.data).event
        except wire.WireError:
            self.undecodable += 1
            return
        if not isinstance(event, Tick | BookSnapshot | MarketDataStatus):
            return
        book = isinstance(event, BookSnapshot)
        for account_id in self._by_symbol.get(event.symbol, ()):
            entry = self._accounts.get(account_id)
            if entry is None or (book and not entry.runner.wants_books):
                continue
            try:
                entry.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped[account_id] += 1

    async def _drain(self, entry: _Account) -> None:
        while True:
            event = await entry.queue.get()
            await entry.runner.on_market(event)
