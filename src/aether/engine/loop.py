"""The engine: one event loop for backtest, paper and live.

It consumes market events (bars, ticks) and venue events, and drives the strategy, sizing,
pre-trade risk, exits, the drawdown guard, the venue and the portfolio. It has no I/O and no
clock of its own: time is the timestamp of the event being handled (a bar counts at its
end, when its close is known). The runner that feeds it decides the mode: history and the
SimBroker for a backtest, the live feed and the SimBroker for paper, Kraken for live.

Exits are watched by the engine on every price event; when one fires it sends a market sell
for the whole position, so in a bar backtest an exit seen on one bar fills at the next open.

The engine composes its parts: the orders it keeps in an :class:`OrderLedger`, the exits in
an :class:`ExitTracker`, the drawdown guard, and the equity curve in an
:class:`EquityRecorder`; it keeps the loop, the strategy context and the order path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from aether.domain.accounts import TradingState
from aether.domain.bars import Bar
from aether.domain.events import (
    MarketDataStale,
    MarketDataStatus,
    OrderFilled,
    Tick,
    VenueEvent,
)
from aether.domain.executions import Fill
from aether.domain.instruments import Instrument
from aether.domain.money import ZERO, floor_to_step, round_to_step
from aether.domain.orders import Order, OrderRuleError, OrderTags, OrderType, Side
from aether.domain.venue import SimulatedMarket, Venue
from aether.engine.config import TradingConfig
from aether.engine.entry_size import size_entry
from aether.engine.equity_recorder import EquityRecorder
from aether.engine.exit_tracker import ExitTracker
from aether.engine.indicators import AverageTrueRange
from aether.engine.order_ledger import OrderLedger
from aether.engine.portfolio import InsufficientFundsError, Portfolio
from aether.engine.refusals import Refusal, account_view
from aether.engine.strategy import Strategy
from aether.risk.drawdown_guard import DrawdownGuard
from aether.risk.exits import ExitKind
from aether.risk.pre_trade import RuleFailure, Verdict, check_order

NS = 1_000_000_000


class Engine:
    """One account's trading loop; implements ``StrategyContext`` for its strategy."""

    def __init__(
        self,
        *,
        instruments: Mapping[str, Instrument],
        portfolio: Portfolio,
        venue: Venue,
        strategy: Strategy,
        config: TradingConfig,
        record_equity: bool = True,
        keep_history: bool = True,
    ) -> None:
        self.instruments = dict(instruments)
        self.portfolio = portfolio
        self.venue = venue
        self.strategy = strategy
        self.config = config
        self.guard = DrawdownGuard(config.limits.max_daily_drawdown)
        self.admin_state = TradingState.ACTIVE
        self.ledger = OrderLedger(config.order_id_prefix, keep_history=keep_history)
        self.exits = ExitTracker(self.instruments, config.exits)
        self.recorder = EquityRecorder(enabled=record_equity)
        self.stale: set[str] = set()  # pairs whose market data is stale: no new entries
        self._marks: dict[str, Decimal] = {}
        self._atr = {s: AverageTrueRange(config.atr_period) for s in self.instruments}
        self._now = 0
        self._started = False

    # --- StrategyContext ---------------------------------------------------------------------
    @property
    def now_ns(self) -> int:
        return self._now

    def position(self, symbol: str) -> Decimal:
        return self.portfolio.total(self.instruments[symbol].base)

    def equity(self) -> Decimal:
        return self.portfolio.equity()

    def last_price(self, symbol: str) -> Decimal | None:
        return self._marks.get(symbol)

    @property
    def trading_state(self) -> TradingState:
        """The stricter of the admin's setting and the drawdown guard's."""
        guard = self.guard.state
        if TradingState.HALTED in (guard, self.admin_state):
            return TradingState.HALTED
        if TradingState.REDUCING in (guard, self.admin_state):
            return TradingState.REDUCING
        return TradingState.ACTIVE

    def target_long(self, symbol: str, reason: str = "signal") -> str | None:
        if self.position(symbol) > ZERO or self.ledger.has_open(symbol, Side.BUY):
            return None
        price = self._marks.get(symbol)
        if price is None:
            return None
        portfolio = self.portfolio
        quantity = size_entry(
            self.config,
            self.instruments[symbol],
            price=price,
            cash=portfolio.available(portfolio.quote),
            equity=portfolio.equity(),
            atr=self._atr_of(symbol),
        )
        if quantity <= ZERO:
            self._refuse(
                symbol, Side.BUY, reason, "sizing", "the sized quantity is below the minimum"
            )
            return None
        return self.place(symbol, Side.BUY, quantity, reason=reason)

    def target_flat(self, symbol: str, reason: str = "signal") -> str | None:
        for order in self.ledger.open_on(symbol, Side.BUY):
            self.cancel(order.cl_ord_id)
        if symbol in self.exits.exiting:
            return None
        held = self.portfolio.available(self.instruments[symbol].base)
        quantity = self._sellable(symbol, held)
        if quantity <= ZERO:
            return None
        return self.place(symbol, Side.SELL, quantity, reason=reason)

    def place(
        self,
        symbol: str,
        side: Side,
        quantity: Decimal,
        *,
        type: OrderType = OrderType.MARKET,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        reason: str = "signal",
    ) -> str | None:
        instrument = self.instruments[symbol]
        mark = self._marks.get(symbol)
        cl_ord_id = self.ledger.next_id()
        try:
            order = Order.create(
                instrument,
                cl_ord_id=cl_ord_id,
                side=side,
                type=type,
                quantity=quantity,
                price=price,
                trigger_price=trigger_price,
                reduce_only=side is Side.SELL,
                tags=OrderTags(self.strategy.name, reason),
                reference_price=mark,
            )
        except (OrderRuleError, ValueError) as exc:
            rule = exc.rule if isinstance(exc, OrderRuleError) else "order"
            self._refuse(symbol, side, reason, rule, str(exc))
            return None
        reference = price or trigger_price or mark
        if reference is None:
            self._refuse(symbol, side, reason, "price", "no price is known for this pair yet")
            return None
        fee_rate = self.config.costs.fee_rate
        verdict = self._check(order, instrument, reference, fee_rate)
        if not verdict.approved:
            self.ledger.refused(Refusal(self._now, symbol, side, reason, verdict.failures))
            return None
        try:
            self.portfolio.reserve(
                cl_ord_id, side, symbol, order.request.quantity, reference, fee_rate
            )
        except InsufficientFundsError as exc:
            self._refuse(symbol, side, reason, "balance", str(exc))
            return None
        self.ledger.sent(order, self._now)
        if side is Side.SELL:
            self.exits.sell_sent(symbol)
        self.venue.submit(order.request, self._now)
        return cl_ord_id

    def cancel(self, cl_ord_id: str) -> None:
        if cl_ord_id in self.ledger.open_orders:
            self.venue.cancel(cl_ord_id, self._now)

    # --- admin ------------------------------------------------------------------------------
    def set_trading_state(self, state: TradingState) -> None:
        """The admin's setting; the drawdown guard can only make it stricter."""
        self.admin_state = state

    def reset_guard(self) -> None:
        """An admin lifts a drawdown halt before the next UTC day."""
        self.guard.reset(self._now)

    # --- the loop ----------------------------------------------------------------------------
    def start(self, now_ns: int) -> None:
        self._now = now_ns
        self._started = True
        self.strategy.on_start(self)

    def run(
        self,
        events: Iterable[Bar | Tick | MarketDataStatus],
        market: SimulatedMarket | None = None,
    ) -> None:
        """Drive the engine over a stream of events in time order.

        ``market`` (the SimBroker in a backtest) sees each event first, so orders decided on
        one bar's close work from the next bar on.
        """
        on_bar, on_tick = self.on_bar, self.on_tick
        market_bar = market.on_bar if market is not None else None
        market_trade = market.on_trade if market is not None else None
        for event in events:
            if type(event) is Bar:
                if market_bar is not None:
                    market_bar(event)
                on_bar(event)
            elif type(event) is Tick:
                if market_trade is not None:
                    market_trade(event)
                on_tick(event)
            else:
                assert isinstance(event, MarketDataStatus)
                self.on_market_status(event)

    def on_market_status(self, event: MarketDataStatus) -> None:
        """A pair's data went stale (no new entries on it) or is fresh again."""
        if isinstance(event, MarketDataStale):
            self.stale.add(event.symbol)
        else:
            self.stale.discard(event.symbol)

    def on_bar(self, bar: Bar) -> None:
        """Handle one closed bar: venue events, marks, exits, the guard, then the strategy."""
        now = bar.end * NS
        if not self._started:
            self.start(bar.start * NS)
        self._now = now
        self._drain()
        symbol, close = bar.symbol, bar.close
        self._marks[symbol] = close
        self.portfolio.mark(symbol, close)
        atr = self._atr[symbol]  # also refuses (KeyError) a bar of a pair it does not trade
        if self.config.uses_atr:
            atr.update(float(bar.high), float(bar.low), float(close))
        exits = self.exits
        holding = symbol in exits.holding
        if holding and symbol in exits.levels:
            self._check_exits(symbol, bar.low, bar.high)
        equity = self.portfolio.equity()
        self.guard.on_equity(now, equity)
        self.recorder.on_bar(bar.end, equity, holding)
        self.strategy.on_bar(self, bar)
        self._drain()

    def on_tick(self, tick: Tick) -> None:
        """Handle one printed trade: venue events, mark, exits, the strategy."""
        self._now = tick.ts_ns
        self._drain()
        self._marks[tick.symbol] = tick.price
        self.portfolio.mark(tick.symbol, tick.price)
        if tick.symbol in self.exits.levels:
            self._check_exits(tick.symbol, tick.price, tick.price)
        self.guard.on_equity(tick.ts_ns, self.portfolio.equity())
        self.strategy.on_tick(self, tick)
        self._drain()

    # --- venue events ------------------------------------------------------------------------
    def _drain(self) -> None:
        events = self.venue.poll()
        while events:
            for event in events:
                self._on_venue_event(event)
            events = self.venue.poll()

    def _on_venue_event(self, event: VenueEvent) -> None:
        order = self.ledger.orders.get(event.cl_ord_id)
        if order is None:
            if isinstance(event, OrderFilled):
                self._on_outside_fill(event.fill)
            return  # the status of an order this engine did not send is not its business
        if isinstance(event, OrderFilled):
            self._on_fill(order, event.fill)
            return
        if not self.ledger.apply_status(order, event):
            return  # refers to another order with this id (a duplicate), not to ours
        if order.status.is_terminal:
            self._finish(order)
        self.strategy.on_order_update(self, order)

    def _on_fill(self, order: Order, fill: Fill) -> None:
        if not self.portfolio.apply_fill(fill):
            return  # a replayed fill: booked already
        self.ledger.book_fill(order, fill)
        symbol = fill.symbol
        atr = self._atr_of(symbol) if fill.side is Side.BUY else None
        self.exits.on_fill(fill, self.position(symbol), atr)
        if order.status.is_terminal:
            self._finish(order)
        self.strategy.on_fill(self, fill)

    def _on_outside_fill(self, fill: Fill) -> None:
        """A fill of an order this engine did not send (one placed through the API on the
        same account): the holdings change all the same, and exits follow the position."""
        if not self.portfolio.apply_fill(fill):
            return
        atr = self._atr_of(fill.symbol) if fill.side is Side.BUY else None
        self.exits.on_fill(fill, self.position(fill.symbol), atr)

    def _finish(self, order: Order) -> None:
        self.ledger.close(order)
        self.portfolio.release(order.cl_ord_id)
        if order.request.side is Side.SELL:
            self.exits.sell_ended(order.request.symbol)

    # --- decisions ---------------------------------------------------------------------------
    def _check_exits(self, symbol: str, low: Decimal, high: Decimal) -> None:
        fired = self.exits.on_price(symbol, low, high)
        if fired is not None:
            self._exit(symbol, fired)

    def _exit(self, symbol: str, kind: ExitKind) -> None:
        quantity = self._sellable(symbol, self.portfolio.available(self.instruments[symbol].base))
        if quantity > ZERO:
            self.place(symbol, Side.SELL, quantity, reason=kind.value)

    def _sellable(self, symbol: str, held: Decimal) -> Decimal:
        instrument = self.instruments[symbol]
        quantity = floor_to_step(held, instrument.lot_size)
        return quantity if quantity >= instrument.min_quantity else ZERO

    def _atr_of(self, symbol: str) -> Decimal | None:
        value = self._atr[symbol].value
        if value is None:
            return None
        return round_to_step(Decimal(repr(value)), self.instruments[symbol].tick_size)

    def _check(
        self, order: Order, instrument: Instrument, price: Decimal, fee_rate: Decimal
    ) -> Verdict:
        account = account_view(
            self.portfolio,
            self.instruments,
            instrument,
            trading_state=self.trading_state,
            marks=self._marks,
            open_orders=len(self.ledger.open_orders),
            recent=self.ledger.recent,
            now_ns=self._now,
            stale=self.stale,
        )
        return check_order(
            order.request,
            instrument,
            price=price,
            account=account,
            limits=self.config.limits,
            fee_rate=fee_rate,
        )

    def _refuse(self, symbol: str, side: Side, reason: str, rule: str, message: str) -> None:
        failure = RuleFailure(rule, message)
        self.ledger.refused(Refusal(self._now, symbol, side, reason, (failure,)))
