"""The emulator's exchange core: per-pair matching by price-time priority, fees by 30-day
volume tier, stop/take-profit/trailing triggers, time in force, self-trade prevention and
Kraken's dead man's switch, over emulated accounts (see :mod:`.settlement` for how money
moves and is held, :mod:`.queries` for what it answers and :mod:`.amending` for
AmendOrder's rules). A market-maker account is just another account.

Pure and synchronous: no I/O and no clock. Every call that moves time takes ``now_ns``
(nanoseconds of emulator time; a time earlier than one already seen counts as that one), and
timers (GTD expiry, ``cancel_all_after``) fire at the start of any such call or on
:meth:`Exchange.advance`. Arithmetic runs in a 60-digit Decimal context whatever the
caller's, so no amount is rounded by the context. Refusals raise ``ExchangeError`` carrying
Kraken's error string.
"""

from __future__ import annotations

import dataclasses
import heapq
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.money import ZERO, round_to_step
from aether.emulator.exchange.amending import AmendResult, describe, plan_amend
from aether.emulator.exchange.book import Book
from aether.emulator.exchange.errors import (
    DUPLICATE_CL_ORD_ID,
    INSUFFICIENT_FUNDS,
    UNKNOWN_ORDER,
    ExchangeError,
    invalid_argument,
)
from aether.emulator.exchange.exact import exact
from aether.emulator.exchange.orders import (
    LIMIT_AFTER_TRIGGER,
    REASON_DEAD_MAN_SWITCH,
    REASON_IOC,
    REASON_NO_LIQUIDITY,
    REASON_POST_ONLY,
    REASON_SELF_TRADE,
    REASON_USER,
    ExecType,
    Order,
    OrderInfo,
    OrderRequest,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from aether.emulator.exchange.queries import ExchangeQueries
from aether.emulator.exchange.validation import parse_request

__all__ = ["DeadManSwitch", "Exchange", "PlaceResult"]

NS = 1_000_000_000
MAX_DEAD_MAN_TIMEOUT_S = 86_400  # Kraken: the timeout "should be less than 86400 seconds"
# Not confirmed in Kraken's error table: the emulator's answer to a post-only amend that
# would take liquidity (the spelling aether.venues.kraken.error_strings also uses).
POST_ONLY_REJECTED = "EOrder:Post only order"


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """AddOrder's answer: ``txid`` is None for ``validate``; ``order`` is the order's state
    once placement settled (filled, resting, waiting for its trigger or cancelled)."""

    txid: str | None
    descr_order: str
    order: OrderInfo | None


@dataclass(frozen=True, slots=True)
class DeadManSwitch:
    """CancelAllOrdersAfter's answer; ``trigger_ns`` is 0 when the timer is disabled."""

    current_ns: int
    trigger_ns: int


class Exchange(ExchangeQueries):
    """Kraken spot, emulated: ``Exchange(pairs, fee_decimals=8, history_limit=50_000,
    event_limit=10_000, tape_limit=1000)`` with ``pairs`` keyed by altname (``XBTUSD``)."""

    @exact
    def advance(self, now_ns: int) -> None:
        """Let time pass: expire GTD orders and fire dead man's switches due by ``now_ns``."""
        self._clock(now_ns)

    def _clock(self, now_ns: int) -> int:
        now = max(now_ns, self._now)
        self._now = now
        while self._expiries and self._expiries[0][0] <= now:
            expire_ns, _, order = heapq.heappop(self._expiries)
            if order.is_open:
                self._close(order, OrderStatus.EXPIRED, None, expire_ns)
        for account, trigger_ns in list(self._dead_man.items()):
            if trigger_ns <= now:
                del self._dead_man[account]
                self._cancel_all(account, REASON_DEAD_MAN_SWITCH, trigger_ns)
        return now

    # --- orders ------------------------------------------------------------------------

    @exact
    def place(self, account: str, request: OrderRequest, now_ns: int) -> PlaceResult:
        """AddOrder. Raises ExchangeError with Kraken's string when the order is refused;
        with ``request.validate`` it checks everything (funds too) and places nothing."""
        owner = self.accounts.get(account)
        now = self._clock(now_ns)
        instrument = self._instrument(request.pair)
        pair = instrument.symbol
        tape = self._tapes[pair]
        reference = tape.last_price
        if request.side in ("buy", "sell"):
            best = self._books[pair].opposite(Side(request.side)).best()
            reference = best.price if best is not None else reference
        parsed = parse_request(
            request, instrument, last_price=tape.last_price, market_reference=reference, now_ns=now
        )
        if parsed.cl_ord_id is not None and (
            parsed.cl_ord_id in self._ledger.records(account).cl_ord_ids
        ):
            raise ExchangeError(DUPLICATE_CL_ORD_ID)
        hold_asset, hold = self._initial_hold(parsed, instrument, account)
        if hold > owner.available(hold_asset):
            raise ExchangeError(INSUFFICIENT_FUNDS)
        if request.validate:
            return PlaceResult(None, parsed.descr_order, None)

        order = self._new_order(account, parsed, hold_asset, now)
        owner.reserve(hold_asset, hold)
        order.hold = hold
        self._ledger.opened(order, now)
        if order.expire_ns:
            heapq.heappush(self._expiries, (order.expire_ns, order.seq, order))
        if order.waiting_for_trigger:
            triggers = self._triggers[pair]
            triggers.add(order, tape.last_price)
            if tape.last_price is not None:
                triggers.touch(tape.last_price)  # already through its trigger: fire now
        else:
            self._execute(order, now)
        self._cascade(pair, now)
        return PlaceResult(order.txid, order.descr_order, order.info())

    @exact
    def cancel(self, account: str, ref: str | int, now_ns: int) -> int:
        """CancelOrder by txid, cl_ord_id or (an int) userref; returns how many were
        cancelled. EOrder:Unknown order when nothing open matches."""
        self.accounts.get(account)
        now = self._clock(now_ns)
        orders = self._ledger.find_open(account, ref)
        if not orders:
            raise ExchangeError(UNKNOWN_ORDER)
        for order in orders:
            self._close(order, OrderStatus.CANCELED, REASON_USER, now)
        return len(orders)

    @exact
    def cancel_all(self, account: str, now_ns: int) -> int:
        """CancelAll: every open order of ``account``; returns the count."""
        self.accounts.get(account)
        return self._cancel_all(account, REASON_USER, self._clock(now_ns))

    @exact
    def cancel_all_after(self, account: str, timeout_s: int, now_ns: int) -> DeadManSwitch:
        """CancelAllOrdersAfter: (re)arm the account's dead man's switch for ``timeout_s``
        seconds, or disable it with 0. When it expires every open order is cancelled and
        the switch stays off until armed again."""
        self.accounts.get(account)
        if isinstance(timeout_s, bool) or not isinstance(timeout_s, int):
            raise invalid_argument("timeout")
        if not 0 <= timeout_s < MAX_DEAD_MAN_TIMEOUT_S:
            raise invalid_argument("timeout")
        now = self._clock(now_ns)
        if timeout_s == 0:
            self._dead_man.pop(account, None)
            return DeadManSwitch(now, 0)
        trigger_ns = now + timeout_s * NS
        self._dead_man[account] = trigger_ns
        return DeadManSwitch(now, trigger_ns)

    @exact
    def amend(
        self,
        account: str,
        ref: str,
        now_ns: int,
        *,
        order_qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        post_only: bool = False,
    ) -> AmendResult:
        """AmendOrder (Kraken's atomic amend): change an open order in place, found by txid
        or cl_ord_id. Ids, fills and (where possible) queue priority stay: a quantity cut at
        the same price keeps the order's place; a new limit price or a larger remaining
        quantity sends it to the back of its (new) level, crossing first if it now crosses.
        ``order_qty`` is the new total quantity; at or below what already executed, the rest
        of the order is cancelled. ``post_only`` (or a post-only order) refuses a new price
        that would take liquidity. Trailing orders cannot be amended here."""
        owner = self.accounts.get(account)
        now = self._clock(now_ns)
        found = self._ledger.find_open(account, ref)
        if not found:
            raise ExchangeError(UNKNOWN_ORDER)
        order = found[0]
        plan = plan_amend(
            order,
            self.pairs[order.pair],
            order_qty=order_qty,
            limit_price=limit_price,
            trigger_price=trigger_price,
        )
        if plan.cancels_rest:
            self._close(order, OrderStatus.CANCELED, REASON_USER, now)
            return AmendResult(order.info(), False)
        waiting = order.waiting_for_trigger
        if not waiting and plan.limit is not None and (post_only or order.post_only):
            self._refuse_taking(order, plan.limit)
        remaining = plan.volume - order.vol_exec
        target = self._amended_hold(order, owner, remaining, plan.basis)
        keeps_priority = plan.limit == order.limit_price and remaining <= order.remaining
        self._requeue(order, remaining, keeps_priority, now)
        self._set_hold(order, owner, target)
        order.volume = plan.volume
        order.limit_after_trigger = plan.after
        if trigger_price is not None:
            order = self._retrigger(order, trigger_price)
        self._redescribe(order, limit_price, trigger_price)
        if not waiting and not order.resting:
            order.limit_price = plan.limit
            self._execute(order, now)
        self._cascade(order.pair, now)
        return AmendResult(order.info(), keeps_priority)

    def _refuse_taking(self, order: Order, limit: Decimal) -> None:
        """A post-only amend may not move the price to where it would take liquidity."""
        best = self._books[order.pair].opposite(order.side).best()
        if best is not None and Book.crosses(order.side, limit, best.price):
            raise ExchangeError(POST_ONLY_REJECTED)

    def _requeue(self, order: Order, remaining: Decimal, keeps_priority: bool, now: int) -> None:
        """Take an amended resting order off the book (it rests again at the back of its
        level once executed), or shrink it where it stands when it keeps its priority."""
        side = self._books[order.pair].same(order.side)
        if order.resting and not keeps_priority:
            side.remove(order, now)
            order.resting = False
        elif order.resting:
            for level in side.levels():
                if level.price == order.limit_price:
                    level.volume -= order.remaining - remaining
                    level.updated_ns = now
                    break

    def _redescribe(
        self, order: Order, limit_price: Decimal | None, trigger_price: Decimal | None
    ) -> None:
        """An amended order's ``descr`` prices and text, as AddOrder would have written them."""
        if order.ordertype is OrderType.LIMIT and limit_price is not None:
            order.descr_price = str(limit_price)
        elif limit_price is not None:
            order.descr_price2 = str(limit_price)
        if trigger_price is not None:
            order.descr_price = str(trigger_price)
        order.descr_order = describe(order, self.pairs[order.pair].lot_size)

    def _retrigger(self, order: Order, stop_price: Decimal) -> Order:
        """Move a waiting order's trigger. The trigger heaps cannot re-key an entry, so the
        order continues as a copy with the new trigger (same txid, a new sequence number)
        and the retired object is marked closed, which makes its old entries stale."""
        self._seq += 1
        fresh = dataclasses.replace(
            order,
            stop_price=stop_price,
            seq=self._seq,
            misc=list(order.misc),
            trades=list(order.trades),
        )
        triggers = self._triggers[order.pair]
        triggers.discard(order)
        order.status = OrderStatus.CANCELED  # retired: no ledger record points at it now
        order.hold = ZERO
        records = self._ledger.records(order.account)
        records.open[fresh.txid] = fresh
        if fresh.cl_ord_id is not None:
            records.cl_ord_ids[fresh.cl_ord_id] = fresh
        if fresh.expire_ns:
            heapq.heappush(self._expiries, (fresh.expire_ns, fresh.seq, fresh))
        last = self._tapes[order.pair].last_price
        triggers.add(fresh, last)
        if last is not None:
            triggers.touch(last)  # already through the new trigger: fires on the cascade
        return fresh

    def _cancel_all(self, account: str, reason: str, now: int) -> int:
        orders = list(self._ledger.records(account).open.values())
        for order in orders:
            self._close(order, OrderStatus.CANCELED, reason, now)
        return len(orders)

    # --- matching ----------------------------------------------------------------------

    def _execute(self, order: Order, now: int) -> None:
        """Cross ``order`` against the book, then rest what is left (GTC/GTD limits) or
        cancel it (market, IOC). A post-only order that would take is cancelled instead."""
        book = self._books[order.pair]
        if order.post_only:
            best = book.opposite(order.side).best()
            if best is not None and Book.crosses(order.side, order.limit_price, best.price):
                self._close(order, OrderStatus.CANCELED, REASON_POST_ONLY, now)
                return
        self._match(order, now)
        if not order.is_open:
            return
        if order.limit_price is None:
            self._close(order, OrderStatus.CANCELED, REASON_NO_LIQUIDITY, now)
        elif order.timeinforce is TimeInForce.IOC:
            self._close(order, OrderStatus.CANCELED, REASON_IOC, now)
        else:
            book.same(order.side).add(order, now)
            order.resting = True

    def _match(self, taker: Order, now: int) -> None:
        opposite = self._books[taker.pair].opposite(taker.side)
        while taker.remaining:
            level = opposite.best()
            if level is None or not Book.crosses(taker.side, taker.limit_price, level.price):
                return
            maker = level.orders[0]
            if maker.account == taker.account:  # self-trade prevention (stptype)
                if taker.stp is not SelfTradePrevention.CANCEL_NEWEST:
                    self._close(maker, OrderStatus.CANCELED, REASON_SELF_TRADE, now)
                if taker.stp is not SelfTradePrevention.CANCEL_OLDEST:
                    self._close(taker, OrderStatus.CANCELED, REASON_SELF_TRADE, now)
                    return
                continue
            self._fill(taker, maker, level, min(taker.remaining, maker.remaining), now)

    # --- triggers ----------------------------------------------------------------------

    def _cascade(self, pair: str, now: int) -> None:
        """Fire what the pair's trades reached; their trades may fire more, until none do."""
        triggers = self._triggers[pair]
        while fired := triggers.fire():
            for order in fired:
                if order.is_open and order.waiting_for_trigger:
                    self._trigger(order, now)

    def _trigger(self, order: Order, now: int) -> None:
        """Turn a fired order into the market or limit order it stands for and execute it."""
        instrument = self.pairs[order.pair]
        owner = self.accounts.get(order.account)
        order.triggered = True
        touched = order.ordertype in (OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT)
        order.misc.append("touched" if touched else "stopped")
        factor = self._hold_factor[order.pair]
        if order.ordertype in LIMIT_AFTER_TRIGGER:
            limit = order.limit_after_trigger
            if order.limit_offset is not None and order.stop_price is not None:
                # A trailing stop-limit's limit is offset from where the stop finally was.
                limit = round_to_step(
                    order.stop_price + order.limit_offset.of(order.stop_price),
                    instrument.tick_size,
                )
                limit = max(limit, instrument.tick_size)
            order.limit_price = limit
            target = order.remaining * limit * factor if limit is not None else ZERO
        else:
            skip_own = order.stp is SelfTradePrevention.CANCEL_OLDEST
            cost = self._sweep_cost(order.pair, order.remaining, order.account, skip_own)
            target = cost * factor
        if order.side is Side.BUY and not self._rehold(order, owner, target, now):
            return
        self._ledger.emit(order, ExecType.STATUS, now)
        self._execute(order, now)
