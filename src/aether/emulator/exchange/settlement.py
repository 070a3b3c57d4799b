"""The exchange's state and how money moves: holds for new orders, fills settled between
two accounts with their fees, and closing an order. :class:`.matching.Exchange` builds
matching, triggers and timers on top of it (its read side is
:class:`.queries.ExchangeQueries`).

Money is exact: a buy holds ``volume * price * (1 + the schedule's highest rate)`` of quote
(a market buy: what sweeping the book costs, plus that rate), a sell holds its volume of
base, and fees are charged in quote rounded down to ``fee_decimals``, so a hold always covers
every partial fill and no balance can fall below what is held.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, Decimal

from aether.domain.instruments import Instrument
from aether.domain.money import ZERO
from aether.emulator.exchange.accounts import Account, Accounts
from aether.emulator.exchange.book import Book, Level
from aether.emulator.exchange.errors import INSUFFICIENT_FUNDS, UNKNOWN_ASSET_PAIR, ExchangeError
from aether.emulator.exchange.ledger import Ledger, Tape
from aether.emulator.exchange.orders import (
    LIMIT_AFTER_TRIGGER,
    REASON_INSUFFICIENT_FUNDS,
    ExecType,
    Order,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    Trade,
    new_txid,
)
from aether.emulator.exchange.triggers import TriggerBook
from aether.emulator.exchange.validation import ParsedOrder

__all__ = ["ExchangeState"]

_EXEC_FOR = {
    OrderStatus.CLOSED: ExecType.FILLED,
    OrderStatus.CANCELED: ExecType.CANCELED,
    OrderStatus.EXPIRED: ExecType.EXPIRED,
}


class ExchangeState:
    """Books, triggers, tapes, accounts and records of the pairs given (keyed by altname,
    e.g. ``XBTUSD``). ``history_limit`` bounds each account's closed orders and trades,
    ``event_limit`` its undrained execution events (oldest dropped first) and ``tape_limit``
    each pair's remembered public trades."""

    def __init__(
        self,
        pairs: Mapping[str, Instrument],
        *,
        fee_decimals: int = 8,
        history_limit: int = 50_000,
        event_limit: int = 10_000,
        tape_limit: int = 1000,
    ) -> None:
        if not pairs:
            raise ValueError("the exchange needs at least one pair")
        for symbol, instrument in pairs.items():
            if symbol != instrument.symbol:
                raise ValueError(f"pair {symbol!r} keys instrument {instrument.symbol!r}")
        self.pairs: dict[str, Instrument] = dict(pairs)
        self.accounts = Accounts()
        self.fees_collected: dict[str, Decimal] = {}
        self._fee_quantum = Decimal(1).scaleb(-fee_decimals)
        # The highest rate of the schedule: a hold at this rate covers any fee at any tier.
        self._hold_factor = {
            symbol: 1 + max(max(t.maker, t.taker) for t in instrument.fees.tiers)
            for symbol, instrument in pairs.items()
        }
        self._books = {symbol: Book() for symbol in pairs}
        self._triggers = {symbol: TriggerBook() for symbol in pairs}
        self._tapes = {symbol: Tape(tape_limit) for symbol in pairs}
        self._ledger = Ledger(history_limit, event_limit)
        self._expiries: list[tuple[int, int, Order]] = []
        self._dead_man: dict[str, int] = {}
        self._seq = 0
        self._now = 0

    def create_account(
        self,
        balances: Mapping[str, Decimal],
        volume_30d_usd: Decimal = ZERO,
        *,
        house: bool = False,
    ) -> tuple[str, str]:
        """A new account; returns ``(api_key, api_secret_b64)``. See :meth:`Accounts.create`.
        A ``house`` account (the emulator's own market maker) keeps no execution events."""
        key, secret = self.accounts.create(balances, volume_30d_usd)
        self._ledger.register(key, events=not house)
        return key, secret

    def _instrument(self, pair: str) -> Instrument:
        instrument = self.pairs.get(pair)
        if instrument is None:
            raise ExchangeError(UNKNOWN_ASSET_PAIR)
        return instrument

    # --- placement ---------------------------------------------------------------------

    def _initial_hold(
        self, parsed: ParsedOrder, instrument: Instrument, account: str
    ) -> tuple[str, Decimal]:
        """What a new order must hold: its base volume for a sell; for a buy, quote for its
        limit (or trigger) price plus the highest fee, or what sweeping the book costs."""
        if parsed.side is Side.SELL:
            return instrument.base, parsed.volume
        factor = self._hold_factor[instrument.symbol]
        price = parsed.limit_price if parsed.limit_price is not None else parsed.stop_price
        if price is not None:
            return instrument.quote, parsed.volume * price * factor
        skip_own = parsed.stp is SelfTradePrevention.CANCEL_OLDEST
        cost = self._sweep_cost(instrument.symbol, parsed.volume, account, skip_own)
        return instrument.quote, cost * factor

    def _sweep_cost(self, pair: str, volume: Decimal, account: str, skip_own: bool) -> Decimal:
        """Quote a market buy of ``volume`` would pay against the asks now (what they have)."""
        remaining, cost = volume, ZERO
        for level in self._books[pair].asks.levels():
            if skip_own:  # the buy would cancel and pass the account's own asks
                quantities = [o.remaining for o in level.orders if o.account != account]
            else:
                quantities = [level.volume]
            for available in quantities:
                taken = min(remaining, available)
                cost += taken * level.price
                remaining -= taken
                if remaining == ZERO:
                    return cost
        return cost

    def _new_order(self, account: str, parsed: ParsedOrder, hold_asset: str, now: int) -> Order:
        self._seq += 1
        txid = new_txid("O")
        while self._ledger.knows(account, txid):  # 82 random bits: never expected
            txid = new_txid("O")
        after_trigger = parsed.ordertype in LIMIT_AFTER_TRIGGER
        return Order(
            txid=txid,
            account=account,
            pair=parsed.pair,
            side=parsed.side,
            ordertype=parsed.ordertype,
            volume=parsed.volume,
            limit_price=None if after_trigger else parsed.limit_price,
            stop_price=parsed.stop_price,
            descr_price=parsed.descr_price,
            descr_price2=parsed.descr_price2,
            descr_order=parsed.descr_order,
            timeinforce=parsed.timeinforce,
            post_only=parsed.post_only,
            oflags=parsed.oflags,
            expire_ns=parsed.expire_ns,
            userref=parsed.userref,
            cl_ord_id=parsed.cl_ord_id,
            stp=parsed.stp,
            opentm_ns=now,
            seq=self._seq,
            hold_asset=hold_asset,
            trail=parsed.trail,
            limit_offset=parsed.limit_offset,
            limit_after_trigger=parsed.limit_price if after_trigger else None,
        )

    # --- fills and closing ----------------------------------------------------------

    def _fill(self, taker: Order, maker: Order, level: Level, qty: Decimal, now: int) -> None:
        """One trade of ``qty`` at the maker's price: balances, fees, records and events."""
        pair = taker.pair
        instrument = self.pairs[pair]
        price = level.price
        cost = qty * price
        tape = self._tapes[pair]
        taker_type = OrderType.MARKET if taker.limit_price is None else OrderType.LIMIT
        public = tape.print(pair, price, qty, tape.stamp(now), taker.side, taker_type)
        # Both fees come from the tiers before this trade's volume counts.
        legs = []
        for order, is_maker in ((taker, False), (maker, True)):
            owner = self.accounts.get(order.account)
            tier = instrument.fees.tier_for(owner.volume_30d(now))
            rate = tier.maker if is_maker else tier.taker
            legs.append(
                (order, owner, is_maker, (cost * rate).quantize(self._fee_quantum, ROUND_DOWN))
            )
        for order, owner, is_maker, fee in legs:
            self._settle(order, owner, instrument, qty, cost, fee)
            owner.record_volume(now, cost)  # quote is USD on every pair: cost is USD volume
            order.vol_exec += qty
            order.cost += cost
            order.fee += fee
            trade = Trade(
                new_txid("T"),
                public.trade_id,
                order.txid,
                order.account,
                pair,
                public.time_ns,
                order.side,
                order.ordertype,
                price,
                cost,
                fee,
                qty,
                is_maker,
            )
            order.trades.append(trade.txid)
            self._ledger.records(order.account).trades.append(trade)
            self._ledger.emit(order, ExecType.TRADE, now, trade)
        self._books[pair].opposite(taker.side).filled(level, qty, now)
        self._triggers[pair].touch(price)
        if maker.remaining == ZERO:
            maker.resting = False  # ``filled`` took it off its level
            self._close(maker, OrderStatus.CLOSED, None, now)
        if taker.remaining == ZERO:
            self._close(taker, OrderStatus.CLOSED, None, now)

    def _settle(
        self,
        order: Order,
        owner: Account,
        instrument: Instrument,
        qty: Decimal,
        cost: Decimal,
        fee: Decimal,
    ) -> None:
        """Move one side's money. A buy's hold shrinks to what its remainder needs at its
        limit (any price improvement is freed); a market buy's hold shrinks by what it paid."""
        base, quote = instrument.base, instrument.quote
        if order.side is Side.BUY:
            if order.limit_price is not None:
                factor = self._hold_factor[instrument.symbol]
                new_hold = (order.remaining - qty) * order.limit_price * factor
            else:
                new_hold = max(ZERO, order.hold - cost - fee)
            owner.release(quote, order.hold - new_hold)
            order.hold = new_hold
            owner.settle(quote, -(cost + fee))
            owner.settle(base, qty)
        else:
            owner.release(base, qty)
            order.hold -= qty
            owner.settle(base, -qty)
            owner.settle(quote, cost - fee)
        self.fees_collected[quote] = self.fees_collected.get(quote, ZERO) + fee

    def _close(self, order: Order, status: OrderStatus, reason: str | None, now: int) -> None:
        """End ``order`` (filled, cancelled or expired): off the book, hold released."""
        if order.resting:
            self._books[order.pair].same(order.side).remove(order, now)
            order.resting = False
        if order.waiting_for_trigger:
            self._triggers[order.pair].discard(order)
        if order.hold:
            self.accounts.get(order.account).release(order.hold_asset, order.hold)
            order.hold = ZERO
        order.status = status
        order.reason = reason
        order.closetm_ns = now
        self._ledger.closed(order)
        self._ledger.emit(order, _EXEC_FOR[status], now)

    def _amended_hold(
        self, order: Order, owner: Account, remaining: Decimal, basis: Decimal | None
    ) -> Decimal:
        """What an amended order must hold: a sell its remaining volume, a buy its remaining
        volume at ``basis`` plus the highest fee (unchanged without a basis: a waiting market
        order). EOrder:Insufficient funds when the extra is not available."""
        if order.side is Side.SELL:
            target = remaining
        elif basis is not None:
            target = remaining * basis * self._hold_factor[order.pair]
        else:
            target = order.hold
        if target - order.hold > owner.available(order.hold_asset):
            raise ExchangeError(INSUFFICIENT_FUNDS)
        return target

    def _set_hold(self, order: Order, owner: Account, target: Decimal) -> None:
        """Reserve or release the difference between ``order``'s hold and ``target``."""
        if target >= order.hold:
            owner.reserve(order.hold_asset, target - order.hold)
        else:
            owner.release(order.hold_asset, order.hold - target)
        order.hold = target

    def _rehold(self, order: Order, owner: Account, target: Decimal, now: int) -> bool:
        """Set a triggered buy's hold to ``target``; cancel it if the extra is not there."""
        if target <= order.hold:
            owner.release(order.hold_asset, order.hold - target)
        elif target - order.hold <= owner.available(order.hold_asset):
            owner.reserve(order.hold_asset, target - order.hold)
        else:
            self._close(order, OrderStatus.CANCELED, REASON_INSUFFICIENT_FUNDS, now)
            return False
        order.hold = target
        return True
