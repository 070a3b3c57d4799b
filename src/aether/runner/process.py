"""A runner process: takes accounts by lease, runs each one's engine, and lets go of them.

Rules a caller must know:

* ``run`` renews what it holds every :data:`~aether.oms.leases.RENEW_EVERY` in a task of its
  own (nothing else the process does can delay a renewal), claims every active account no
  live lease covers every :data:`~aether.oms.leases.CLAIM_POLL`, and stops an account at
  once when its lease is lost. Every order write of this process checks the writing
  account's lease and token in its own transaction (the order service's fence), so a runner
  that lost an account writes nothing more for it.
* Starting and stopping accounts is serialised (one lock): an account is never started
  twice, nor stopped while it starts.
* An account that fails to start, or whose engine fails, is held idle and tried again after
  :data:`RETRY_SECONDS`, never run twice. What else runs per account is
  :mod:`aether.runner.housekeeping`'s.
* ``stop`` (or cancelling ``run``) stops every engine and releases every lease, so another
  runner takes the accounts at once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.oms import leases
from aether.oms.leases import Lease, LeaseLost
from aether.ops.tasks import stop_task
from aether.runner.account_runner import AccountRunner
from aether.runner.account_start import NotTrading, RunnerParts, start_account
from aether.runner.market_inbox import MarketInbox
from aether.storage.tables import AccountRow

__all__ = ["RETRY_SECONDS", "Held", "RunnerProcess", "account_version"]

log = structlog.get_logger("aether.runner")

RETRY_SECONDS = 30.0


@dataclass(slots=True)
class Held:
    """One account this process holds the lease of, running or idle (and why)."""

    lease: Lease
    version: tuple[object, ...] = ()  # what the runner was started from
    runner: AccountRunner | None = None
    idle_reason: str = ""
    retry_at: float = 0.0
    last_relay: float = 0.0
    last_sync: float = 0.0
    last_reconcile: float = 0.0
    sync_soon: bool = False  # an order was accepted: look for its fills early


def account_version(account: AccountRow) -> tuple[object, ...]:
    """What a running engine depends on: a change restarts it."""
    return (account.mode, account.status, repr(sorted(account.config.items())))


@dataclass
class RunnerProcess:
    """Every account this process holds; see the module's rules."""

    sessions: async_sessionmaker[AsyncSession]
    parts: RunnerParts
    inbox: MarketInbox
    holder: str = field(default_factory=leases.new_holder_id)
    held: dict[uuid.UUID, Held] = field(default_factory=dict)
    lifecycle: asyncio.Lock = field(default_factory=asyncio.Lock)

    def fence_token(self, account_id: uuid.UUID) -> int:
        """The token this process holds the account under; LeaseLost when it holds none."""
        held = self.held.get(account_id)
        if held is None:
            raise LeaseLost(account_id, f"{self.holder} does not hold it")
        return held.lease.token

    async def fence(self, session: AsyncSession, account_id: uuid.UUID) -> None:
        """The order service's fence: this process's lease on the account, in ``session``."""
        await leases.check_fence(session, account_id, self.holder, self.fence_token(account_id))

    def route(self, account_id: uuid.UUID, payload: object) -> None:
        """An order event for the account's engine, if this process runs it."""
        held = self.held.get(account_id)
        if held is None or held.runner is None or not isinstance(payload, dict):
            return
        held.runner.deliver(payload)
        if payload.get("event") == "accepted":
            held.sync_soon = True

    # --- the loops ----------------------------------------------------------------------
    async def run(self) -> None:
        """Renew and claim until cancelled; then let go of everything."""
        renewing = asyncio.create_task(self._renew_forever(), name="runner-renew")
        try:
            claim_every = leases.CLAIM_POLL.total_seconds()
            while True:
                if renewing.done():
                    renewing.result()  # a renewal loop that ended failed: stop the process
                await self.claim()
                await asyncio.sleep(claim_every)
        finally:
            await stop_task(renewing)
            await asyncio.shield(self.stop())

    async def _renew_forever(self) -> None:
        every = leases.RENEW_EVERY.total_seconds()
        while True:
            await self.renew_all()
            await asyncio.sleep(every)

    async def stop(self) -> None:
        """Stop every engine and release every lease (best effort: a lease also expires)."""
        async with self.lifecycle:
            for account_id in list(self.held):
                await self._let_go(account_id, release=True)

    # --- leases -------------------------------------------------------------------------
    async def claim(self) -> None:
        """Take the free accounts and start them."""
        async with self.sessions() as session:
            taken = await leases.claim_free_accounts(session, self.holder)
            await session.commit()
        for lease in taken:
            async with self.lifecycle:
                self.held[lease.account_id] = Held(lease)
                log.info("account taken", account=str(lease.account_id), tenure=lease.token)
                await self._start(lease.account_id)

    async def renew_all(self) -> None:
        for account_id, held in list(self.held.items()):
            try:
                async with self.sessions() as session:
                    held.lease = await leases.renew(session, held.lease)
                    await session.commit()
            except LeaseLost as exc:
                log.warning(
                    "lease lost: the account stops here", account=str(account_id), why=exc.reason
                )
                await self.lost(account_id)

    async def lost(self, account_id: uuid.UUID) -> None:
        """This process no longer holds the account: stop it, release nothing."""
        async with self.lifecycle:
            await self._let_go(account_id, release=False)

    async def restart(self, account_id: uuid.UUID) -> None:
        """Stop the account's engine (if running) and start it again from the database."""
        async with self.lifecycle:
            held = self.held.get(account_id)
            if held is not None:
                held.retry_at = 0.0
                await self._stop_runner(account_id)
                await self._start(account_id)

    async def _let_go(self, account_id: uuid.UUID, *, release: bool) -> None:
        await self._stop_runner(account_id)
        held = self.held.pop(account_id, None)
        if held is None or not release:
            return
        try:
            async with self.sessions() as session:
                await leases.release(session, held.lease)
                await session.commit()
        except Exception as exc:  # the lease expires by itself: say so, go on stopping
            log.warning("lease not released", account=str(account_id), error=type(exc).__name__)

    # --- engines ------------------------------------------------------------------------
    async def _start(self, account_id: uuid.UUID) -> None:
        held = self.held[account_id]
        async with self.sessions() as session:
            account = await session.get(AccountRow, account_id)
        if account is None or account.status != "active":
            await self._let_go(account_id, release=True)
            return
        held.version = account_version(account)
        try:
            runner = await start_account(self.parts, account, held.lease)
        except NotTrading as exc:
            held.idle_reason = str(exc)
            log.info("account held, not trading", account=str(account_id), reason=str(exc))
            return
        except LeaseLost:
            await self._let_go(account_id, release=False)
            return
        except Exception as exc:
            held.idle_reason = f"start failed: {type(exc).__name__}: {exc}"[:300]
            held.retry_at = time.monotonic() + RETRY_SECONDS
            log.error("account failed to start", account=str(account_id), why=held.idle_reason)
            return
        held.runner, held.idle_reason = runner, ""
        held.last_reconcile = time.monotonic()  # a live account was reconciled to start
        await self.inbox.add(runner)
        log.info("account running", account=str(account_id), mode=account.mode)

    async def _stop_runner(self, account_id: uuid.UUID) -> None:
        held = self.held.get(account_id)
        if held is None or held.runner is None:
            return
        await self.inbox.remove(account_id)
        self.parts.paper_venues.remove(account_id)
        held.runner = None
