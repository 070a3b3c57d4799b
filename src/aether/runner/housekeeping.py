"""What a runner process does beside the engines, for each account it runs.

* An engine that failed is stopped and tried again after
  :data:`~aether.runner.process.RETRY_SECONDS` (a lost lease lets the account go instead).
* An account whose row changed (mode, status, configuration) is restarted from the
  database; an account that stopped being active is let go.
* The outbox relay runs every round for a paper account (its API orders are handed to this
  runner through the outbox) and every :data:`RELAY_SECONDS` for a live one.
* A live account's fills are synced from Kraken every :data:`FILL_SYNC_SECONDS`, and early
  (after :data:`SOON_SECONDS`) once one of its orders was accepted; it is reconciled with
  Kraken every :data:`RECONCILE_SECONDS` (which also stores its balances). Kraken counts
  ``TradesHistory`` at two points and a starter key regains a third of a point a second: a
  sync every ten seconds leaves room for the orders.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import func, select

from aether.oms.leases import LeaseLost
from aether.oms.reconcile import reconcile_account
from aether.oms.relay import relay_pending, sync_fills
from aether.runner.process import RETRY_SECONDS, RunnerProcess, account_version
from aether.storage.order_tables import FillRow
from aether.storage.tables import AccountRow

__all__ = ["FILL_SYNC_SECONDS", "RECONCILE_SECONDS", "RELAY_SECONDS", "keep_house"]

log = structlog.get_logger("aether.runner")

RELAY_SECONDS = 5.0
FILL_SYNC_SECONDS = 10.0
SOON_SECONDS = 1.5
RECONCILE_SECONDS = 60.0
TICK_SECONDS = 0.5
_NOW = timedelta(0)


async def keep_house(process: RunnerProcess) -> None:
    """Run the rounds of the module's rules until cancelled."""
    while True:
        await one_round(process)
        await asyncio.sleep(TICK_SECONDS)


async def one_round(process: RunnerProcess) -> None:
    await _failed_engines(process)
    await _changed_accounts(process)
    now = time.monotonic()
    for account_id, held in list(process.held.items()):
        runner = held.runner
        if runner is None:
            continue
        service, account = process.parts.service, runner.account
        if account.mode != "live":
            # A paper account's API orders wait in the outbox for this runner: at once.
            await _guarded(process, account_id, relay_pending(service, account, min_age=_NOW))
            continue
        if now - held.last_relay >= RELAY_SECONDS:
            held.last_relay = now
            await _guarded(process, account_id, relay_pending(service, account))
        if now - held.last_reconcile >= RECONCILE_SECONDS:
            held.last_reconcile = now
            check = reconcile_account(process.parts.service, runner.account, process.parts.metrics)
            await _guarded(process, account_id, check)
        due = FILL_SYNC_SECONDS if not held.sync_soon else SOON_SECONDS
        if now - held.last_sync >= due:
            held.last_sync, held.sync_soon = now, False
            since = await _last_fill_time(process, account_id)
            work = sync_fills(process.parts.service, runner.account, since)
            await _guarded(process, account_id, work)


async def _failed_engines(process: RunnerProcess) -> None:
    for account_id, error in process.inbox.failed():
        if isinstance(error, LeaseLost):
            await process.lost(account_id)
            continue
        held = process.held.get(account_id)
        if held is None:
            continue
        held.idle_reason = f"engine failed: {type(error).__name__}: {error}"[:300]
        log.error("account engine failed", account=str(account_id), why=held.idle_reason)
        await process.inbox.remove(account_id)
        held.runner = None
        held.retry_at = time.monotonic() + RETRY_SECONDS


async def _changed_accounts(process: RunnerProcess) -> None:
    if not process.held:
        return
    async with process.sessions() as session:
        rows = (
            await session.scalars(select(AccountRow).where(AccountRow.id.in_(list(process.held))))
        ).all()
    current = {row.id: row for row in rows}
    now = time.monotonic()
    for account_id, held in list(process.held.items()):
        row = current.get(account_id)
        changed = row is None or account_version(row) != held.version
        retry = held.runner is None and held.retry_at and now >= held.retry_at
        if changed or retry:
            await process.restart(account_id)


async def _last_fill_time(process: RunnerProcess, account_id: uuid.UUID) -> datetime:
    async with process.sessions() as session:
        last = await session.scalar(
            select(func.max(FillRow.ts)).where(FillRow.account_id == account_id)
        )
    return (last or datetime.now(UTC) - timedelta(days=1)) - timedelta(seconds=2)


async def _guarded(process: RunnerProcess, account_id: uuid.UUID, work: Awaitable[object]) -> None:
    try:
        await work
    except LeaseLost:
        await process.lost(account_id)
    except Exception as exc:  # the next round tries again
        log.warning(
            "runner housekeeping failed",
            account=str(account_id),
            error=f"{type(exc).__name__}: {exc}"[:300],
        )
