"""A runner's order path in processes of their own, which SIGKILL themselves where told.

``python -m tests.integration.runner.crash_driver ACCOUNT_ID`` on the servers of the
environment (``AETHER_DATABASE_URL``, ``AETHER_KRAKEN_REST_URL``, the vault's KEK, the audit
key) reads one ``KILL TARGET`` per line from stdin, forks a child for it (the imports are paid
once, in this single-threaded parent), and answers ``exit <code>`` (``-9``: killed). Each
child first recovers as a runner does when it takes an account (the outbox
relay, then reconciliation), then submits orders through the order service until the
account has ``TARGET`` orders, alternately a market buy that fills and a limit buy that
rests. ``KILL`` is ``none``, ``before_send:N`` (after the N-th order is persisted, before
it is sent), ``after_send:N`` (the venue has the N-th order, the database does not know)
or ``timer:MS`` (MS milliseconds into the submissions, wherever that falls).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from aether.domain.orders import OrderType, Side
from aether.oms.errors import OrderServiceError
from aether.oms.new_order import NewOrder
from aether.oms.reconcile import reconcile_account
from aether.oms.reconcile_report import ReconciliationMetrics
from aether.oms.relay import relay_pending, sync_fills
from aether.oms.service import OrderService
from aether.oms.venue_choice import AccountVenues, vault_credentials
from aether.oms.venue_port import OrderVenue
from aether.platform.runner import session_info
from aether.settings import load_settings
from aether.storage.database import create_engine, session_factory
from aether.storage.order_tables import OrderRow
from aether.storage.tables import AccountRow
from aether.venues.kraken.rate_limit import RestCounter, Tier

QUANTITY = Decimal("0.0005")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillingVenue:
    """The account's real venue, with a SIGKILL before or after the chosen send."""

    def __init__(self, inner: OrderVenue, kill: str) -> None:
        self.inner = inner
        self.kind, _, count = kill.partition(":")
        self.at = int(count) if count else 0
        self.sends = 0
        self.name = inner.name

    async def submit(self, request: Any) -> str:
        self.sends += 1
        if self.kind == "before_send" and self.sends == self.at:
            _die()
        answer = await self.inner.submit(request)
        if self.kind == "after_send" and self.sends == self.at:
            _die()
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Choice:
    def __init__(self, live: AccountVenues, kill: str) -> None:
        self.live = live
        self.kill = kill
        self.venue: KillingVenue | None = None

    async def venue_for(self, account: AccountRow) -> OrderVenue:
        if self.venue is None:
            self.venue = KillingVenue(await self.live.venue_for(account), self.kill)
        return self.venue  # type: ignore[return-value]


async def main(account_id: uuid.UUID, target: int, kill: str) -> None:
    settings = load_settings()
    assert settings.database_url is not None
    engine = create_engine(settings.database_url.get_secret_value(), pool_size=2)
    sessions = session_factory(engine, info=session_info(settings))
    live = AccountVenues(
        settings.kraken_rest_base,
        settings.data_dir / "nonces",
        sessions,
        vault_credentials,
        tier=Tier.PRO,
    )
    service = OrderService(sessions, Choice(live, kill))
    async with sessions() as session:
        account = await session.get(AccountRow, account_id)
    assert account is not None
    await relay_pending(service, account, min_age=timedelta(0))
    await reconcile_account(service, account, ReconciliationMetrics(CollectorRegistry()))
    if kill.startswith("timer:"):
        threading.Timer(int(kill.split(":")[1]) / 1000, _die).start()
    venue = await service.venues.venue_for(account)
    bid = (await venue.quote("XBTUSD")).bid
    far = (bid / 2).quantize(Decimal("0.1"))
    while True:
        async with sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(OrderRow).where(OrderRow.account_id == account_id)
            )
        if count >= target:
            break
        market = count % 2 == 0
        new = NewOrder(
            symbol="XBTUSD",
            side=Side.BUY,
            type=OrderType.MARKET if market else OrderType.LIMIT,
            quantity=QUANTITY,
            price=None if market else far,
        )
        try:
            await service.submit(account, new)
        except OrderServiceError as exc:  # nothing was written: the loop would never end
            raise SystemExit(f"order {count + 1} refused: {exc}") from exc
    await sync_fills(service, account, account.created_at - timedelta(seconds=5))
    await live.aclose()
    await engine.dispose()


def _child(account_id: uuid.UUID, target: int, kill: str) -> int:
    # The emulator of this test runs without rate limits, so the client does not pace itself
    # either: its pacing has tests of its own and would only make this one slow.
    RestCounter.delay_for = lambda self, cost, now: 0.0  # type: ignore[method-assign]
    try:
        asyncio.run(main(account_id, target, kill))
    except BaseException as exc:
        sys.stderr.write(f"driver failed: {type(exc).__name__}: {exc}\n")
        return 1
    return 0


def serve(account_id: uuid.UUID) -> None:
    for line in sys.stdin:
        kill, target = line.split()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os._exit(_child(account_id, int(target), kill))
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        sys.stdout.write(f"exit {code}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve(uuid.UUID(sys.argv[1]))
