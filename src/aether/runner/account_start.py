"""Bringing one leased account to life: its engine restored from the database, its venue,
its market data, and the orders an earlier tenure left open.

Rules a caller must know:

* An account without a strategy is held but not run (:class:`NotTrading`); so is a live
  account the settings forbid to trade live (the production profile against the emulator).
* A paper account's portfolio is its starting cash plus its recorded fills; its SimBroker
  starts with those balances and re-places the open orders the database has. A live
  account is reconciled with Kraken first, and its portfolio starts from Kraken's balances.
* The orders an earlier tenure left open are cancelled through the order service before
  the engine decides anything: a new tenure starts with no working orders and keeps its
  positions (exits are set again from the position's cost).
* Each pair the account trades is made sure to be followed by the ingest (trade and book);
  a pair the instrument registry does not list (not loaded yet) is only warned about.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.accounts.config import stored_config
from aether.bus.subjects import SUBSCRIPTIONS_CHANGED
from aether.domain.executions import Fill
from aether.domain.instruments import Instrument
from aether.domain.money import ZERO
from aether.domain.orders import OrderStatus
from aether.engine.loop import Engine
from aether.engine.portfolio import Portfolio
from aether.marketdata import subscriptions
from aether.oms.balance_snapshots import load_balances
from aether.oms.errors import OrderServiceError
from aether.oms.fill_history import account_fills
from aether.oms.leases import Lease
from aether.oms.paper_restore import resting_orders, volume_history
from aether.oms.paper_venue import PaperOrderVenue, PaperVenues
from aether.oms.portfolio_replay import instruments_of, replay_fills
from aether.oms.reconcile import reconcile_account
from aether.oms.reconcile_report import ReconciliationMetrics
from aether.oms.relay import relay_pending
from aether.oms.service import OrderService
from aether.runner.account_runner import AccountRunner, PaperFills
from aether.runner.engine_venue import EngineVenue
from aether.runner.restore import RestoreError, live_portfolio
from aether.runner.trading_setup import trading_setup
from aether.storage.order_tables import OrderRow
from aether.storage.tables import AccountRow

__all__ = ["NotTrading", "RunnerParts", "start_account"]

log = structlog.get_logger("aether.runner")

RUNNER_ACTOR = "system:runner"
_FOLLOW = ("trade", "book")
_OPEN = tuple(s.value for s in OrderStatus if not s.is_terminal)


class NotTrading(Exception):
    """The account is held but its engine does not run; the message says why."""


@dataclass(frozen=True, slots=True)
class RunnerParts:
    """What every account runner of a process shares."""

    service: OrderService
    paper_venues: PaperVenues
    metrics: ReconciliationMetrics
    live_refusal: str | None
    publish: Callable[[str, bytes], Awaitable[bool]]
    paper_fills: Callable[[AccountRow, PaperOrderVenue], PaperFills]


async def start_account(parts: RunnerParts, account: AccountRow, lease: Lease) -> AccountRunner:
    """The account's runner, ready for market events; raises NotTrading (see the rules)."""
    config = stored_config(account.config)
    if config.strategy is None:
        raise NotTrading("it has no strategy")
    if account.mode == "live" and parts.live_refusal is not None:
        raise NotTrading(parts.live_refusal)
    service = parts.service
    pairs = tuple(config.strategy.pairs)
    async with service.sessions() as session:
        fills = await account_fills(session, account.id)
        instruments = await instruments_of(session, {*pairs, *(f.symbol for f in fills)})
        changed = await _follow(session, pairs)
        await session.commit()
    for sub in changed:  # the ingest re-reads its table anyway: this only makes it prompt
        await parts.publish(
            SUBSCRIPTIONS_CHANGED,
            subscriptions.change_message(sub.symbol, sub.ws_symbol, sub.kinds),
        )
    setup = trading_setup(config, instruments, f"t{lease.token}"[:8])
    bridge = EngineVenue()
    paper_fills = None
    if account.mode == "live":
        portfolio = await _live_portfolio(parts, account, instruments, fills)
    else:
        starting = config.paper.starting_cash_usd
        replay = replay_fills(instruments, fills, starting)
        if replay.unmatched:
            raise RestoreError(
                f"paper fills {replay.unmatched[:3]} exceed the balances: was the starting "
                "cash lowered?"
            )
        portfolio = replay.portfolio
        venue = await _paper_venue(parts, account, instruments, portfolio)
        paper_fills = parts.paper_fills(account, venue)
    engine = Engine(
        instruments={p: instruments[p] for p in pairs},
        portfolio=portfolio,
        venue=bridge,
        strategy=setup.strategy,
        config=setup.config,
        record_equity=False,
        keep_history=False,  # the database keeps it; a runner runs for months
    )
    engine.set_trading_state(config.trading_state)
    runner = AccountRunner(
        account,
        engine,
        bridge,
        service,
        frozenset(pairs),
        bar_seconds=config.strategy.bar_seconds,
        paper_fills=paper_fills,
    )
    await _cancel_inherited(service, account)
    return runner


async def _follow(
    session: AsyncSession, pairs: tuple[str, ...]
) -> list[subscriptions.Subscription]:
    """Make sure the ingest follows trades and books of ``pairs``; the subscriptions changed
    (each audited). Caller commits."""
    current = {s.symbol: set(s.kinds) for s in await subscriptions.list_all(session)}
    changed = []
    for pair in pairs:
        kinds = current.get(pair, set())
        if set(_FOLLOW) <= kinds:
            continue
        try:
            async with session.begin_nested():
                changed.append(
                    await subscriptions.subscribe(
                        session, pair, sorted(kinds | set(_FOLLOW)), actor=RUNNER_ACTOR
                    )
                )
        except subscriptions.SubscriptionError as exc:
            # The engine still runs on whatever market data the bus brings; readiness of the
            # ingest and this warning say why there may be none.
            log.warning("pair not followed by the ingest", pair=pair, reason=str(exc))
    return changed


async def _live_portfolio(
    parts: RunnerParts,
    account: AccountRow,
    instruments: Mapping[str, Instrument],
    fills: Sequence[Fill],
) -> Portfolio:
    service = parts.service
    report = await reconcile_account(service, account, parts.metrics)
    if report.unresolved:
        log.warning("reconciliation left orders unresolved", account=str(account.id))
    venue = await service.venues.venue_for(account)
    async with service.sessions() as session:  # the snapshot reconciliation just stored
        balances = {row.asset: row.total for row in await load_balances(session, account.id)}
    prices: dict[str, Decimal] = {}
    for symbol, instrument in instruments.items():
        if balances.get(instrument.base, ZERO) > ZERO:
            prices[symbol] = (await venue.quote(symbol)).last
    return live_portfolio(instruments, balances, fills, prices)


async def _paper_venue(
    parts: RunnerParts,
    account: AccountRow,
    instruments: Mapping[str, Instrument],
    portfolio: Portfolio,
) -> PaperOrderVenue:
    """The account's SimBroker on the replayed balances, its open orders placed again."""
    balances = {b.asset: b.total for b in portfolio.balances().values()}
    async with parts.service.sessions() as session:
        history = await volume_history(session, account.id, parts.service.clock())
        resting = await resting_orders(session, account.id)
    venue = PaperOrderVenue(account.id, instruments, balances, volume_history=history)
    venue.restore(resting)
    parts.paper_venues.add(venue)
    return venue


async def _cancel_inherited(service: OrderService, account: AccountRow) -> None:
    # Settle first what an earlier tenure sent without an answer (or never sent), so that
    # no order it left behind is sent after the cancels below.
    await relay_pending(service, account, min_age=timedelta(0))
    async with service.sessions() as session:
        open_ids = (
            await session.scalars(
                select(OrderRow.cl_ord_id).where(
                    OrderRow.account_id == account.id, OrderRow.status.in_(_OPEN)
                )
            )
        ).all()
    for cl_ord_id in open_ids:
        try:
            await service.cancel(account, cl_ord_id)
        except OrderServiceError as exc:
            log.warning(
                "an inherited open order could not be cancelled",
                account=str(account.id),
                cl_ord_id=cl_ord_id,
                reason=str(exc)[:200],
            )
