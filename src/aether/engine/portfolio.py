"""One account's holdings: cash and assets, reservations, FIFO lots, PnL, equity, drawdown.

Accounting conventions (the invariant the tests hold it to):

    cash + open lots at cost + fees paid (USD)  ==  starting cash + realized PnL (gross)

* Lots are valued at their fill price; fees are kept apart, in USD at the fill price, so
  gross and net PnL are both exact (``realized_pnl - fees_paid_usd`` is the net figure).
* A buy's fee may be charged in the quote (USD: cash pays it) or in the base asset (the
  quantity received is smaller); a sell's fee is charged in the quote.
* ``reserve`` holds funds for an open order (quote for buys, base for sells); a reservation
  shrinks as the order fills and is released when it ends, so two orders can never spend the
  same dollar. Nothing here reads a clock: callers pass timestamps (UTC epoch nanoseconds).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.executions import Balance, Fill, Position
from aether.domain.instruments import Instrument
from aether.domain.money import ZERO
from aether.domain.orders import Side

NS_PER_DAY = 86_400 * 1_000_000_000


class InsufficientFundsError(RuntimeError):
    """Available funds (net of reservations) do not cover what was asked."""


@dataclass(slots=True)
class _Lot:
    quantity: Decimal
    price: Decimal


@dataclass(slots=True)
class _Reservation:
    asset: str
    amount: Decimal
    per_unit: Decimal  # how much of ``amount`` one unit of the order's quantity holds


@dataclass(frozen=True, slots=True)
class EquityPoint:
    ts_ns: int
    equity: Decimal


class Portfolio:
    """Holdings of one account in one quote currency (USD)."""

    def __init__(
        self, instruments: Mapping[str, Instrument], cash: Decimal, quote: str = "USD"
    ) -> None:
        if cash < ZERO:
            raise ValueError("starting cash must not be negative")
        self.instruments = dict(instruments)
        self.quote = quote
        self.starting_cash = cash
        self._totals: dict[str, Decimal] = {quote: cash}
        self._reserved: dict[str, Decimal] = {}
        self._reservations: dict[str, _Reservation] = {}
        self._lots: dict[str, deque[_Lot]] = {}
        self._marks: dict[str, Decimal] = {}
        self._realized: dict[str, Decimal] = {}
        self._seen_trades: set[str] = set()
        self.fees_paid_usd = ZERO
        self.equity_curve: list[EquityPoint] = []
        self.high_water_mark = cash
        self.max_drawdown = ZERO
        self._day: int | None = None
        self._day_peak = cash

    # --- balances ------------------------------------------------------------------------
    def total(self, asset: str) -> Decimal:
        return self._totals.get(asset, ZERO)

    def reserved(self, asset: str) -> Decimal:
        return self._reserved.get(asset, ZERO)

    def available(self, asset: str) -> Decimal:
        return self.total(asset) - self.reserved(asset)

    @property
    def cash(self) -> Decimal:
        return self.total(self.quote)

    def balances(self) -> dict[str, Balance]:
        return {a: Balance(a, t, self.reserved(a)) for a, t in self._totals.items()}

    # --- reservations --------------------------------------------------------------------
    def reserve(
        self,
        cl_ord_id: str,
        side: Side,
        symbol: str,
        quantity: Decimal,
        price: Decimal,
        fee_rate: Decimal,
    ) -> Decimal:
        """Hold funds for an order: ``quantity * price * (1 + fee_rate)`` USD for a buy, the
        base quantity for a sell. Returns the amount held; raises InsufficientFundsError."""
        if cl_ord_id in self._reservations:
            raise ValueError(f"order {cl_ord_id} already holds a reservation")
        instrument = self.instruments[symbol]
        if side is Side.BUY:
            asset, per_unit = self.quote, price * (1 + fee_rate)
        else:
            asset, per_unit = instrument.base, Decimal(1)
        amount = quantity * per_unit
        if amount > self.available(asset):
            raise InsufficientFundsError(
                f"order {cl_ord_id} needs {amount} {asset}, only {self.available(asset)} "
                "is available"
            )
        self._reservations[cl_ord_id] = _Reservation(asset, amount, per_unit)
        self._reserved[asset] = self.reserved(asset) + amount
        return amount

    def release(self, cl_ord_id: str) -> None:
        """Free what is left of an order's reservation (the order has ended); idempotent."""
        held = self._reservations.pop(cl_ord_id, None)
        if held is not None:
            self._reserved[held.asset] = self.reserved(held.asset) - held.amount

    def _consume_reservation(self, cl_ord_id: str, quantity: Decimal, spent: Decimal) -> None:
        held = self._reservations.get(cl_ord_id)
        if held is None:
            return
        # At least what was actually spent, never more than is still held.
        used = min(held.amount, max(quantity * held.per_unit, spent))
        held.amount -= used
        self._reserved[held.asset] = self.reserved(held.asset) - used

    def bring_in(self, symbol: str, quantity: Decimal, price: Decimal) -> None:
        """Holdings not bought through this portfolio (a live account's balance when its
        runner starts): ``quantity`` of ``symbol``'s base as one lot costing ``price`` each."""
        if quantity <= ZERO or price <= ZERO:
            raise ValueError(f"bring_in {symbol}: quantity and price must be positive")
        self._credit(self.instruments[symbol].base, quantity)
        self._lots.setdefault(symbol, deque()).append(_Lot(quantity, price))
        self._marks.setdefault(symbol, price)

    # --- fills ------------------------------------------------------------------------------
    def apply_fill(self, fill: Fill) -> bool:
        """Book a fill once (a repeated ``trade_id`` is ignored and returns False)."""
        if fill.trade_id in self._seen_trades:
            return False
        instrument = self.instruments[fill.symbol]
        base, quote = instrument.base, self.quote
        if fill.fee_currency not in (base, quote) or (
            fill.side is Side.SELL and fill.fee_currency != quote
        ):
            raise ValueError(
                f"fill {fill.trade_id}: fee currency {fill.fee_currency!r} is not supported "
                f"for a {fill.side} of {fill.symbol}"
            )
        fee_in_quote = fill.fee_currency == quote
        fee_usd = fill.fee if fee_in_quote else fill.fee * fill.price
        if fill.side is Side.BUY:
            spent = fill.notional + (fill.fee if fee_in_quote else ZERO)
            received = fill.quantity - (ZERO if fee_in_quote else fill.fee)
            self._consume_reservation(fill.cl_ord_id, fill.quantity, spent)
            self._debit(quote, spent, fill)
            self._credit(base, received)
            self._lots.setdefault(fill.symbol, deque()).append(_Lot(received, fill.price))
        else:
            self._consume_reservation(fill.cl_ord_id, fill.quantity, fill.quantity)
            self._debit(base, fill.quantity, fill)
            self._credit(quote, fill.notional - fill.fee)
            cost = self._take_lots(fill.symbol, fill.quantity)
            self._realized[fill.symbol] = self.realized_pnl_of(fill.symbol) + fill.notional - cost
        self.fees_paid_usd += fee_usd
        self._marks[fill.symbol] = fill.price
        self._seen_trades.add(fill.trade_id)
        return True

    def _debit(self, asset: str, amount: Decimal, fill: Fill) -> None:
        if amount > self.total(asset):
            raise InsufficientFundsError(
                f"fill {fill.trade_id} needs {amount} {asset}, the account holds "
                f"{self.total(asset)}"
            )
        self._totals[asset] = self.total(asset) - amount

    def _credit(self, asset: str, amount: Decimal) -> None:
        self._totals[asset] = self.total(asset) + amount

    def _take_lots(self, symbol: str, quantity: Decimal) -> Decimal:
        """Remove ``quantity`` from the oldest lots first; return its cost."""
        lots, cost, left = self._lots[symbol], ZERO, quantity
        while left > ZERO:
            lot = lots[0]
            taken = min(lot.quantity, left)
            cost += taken * lot.price
            lot.quantity -= taken
            left -= taken
            if lot.quantity == ZERO:
                lots.popleft()
        return cost

    # --- valuation ---------------------------------------------------------------------------
    def mark(self, symbol: str, price: Decimal) -> None:
        """The latest price of ``symbol``, used for unrealized PnL and equity."""
        self._marks[symbol] = price

    def position(self, symbol: str) -> Position:
        lots = self._lots.get(symbol, ())
        quantity = sum((lot.quantity for lot in lots), ZERO)
        cost = sum((lot.quantity * lot.price for lot in lots), ZERO)
        return Position(symbol, quantity, cost, self.realized_pnl_of(symbol))

    def positions(self) -> dict[str, Position]:
        return {s: self.position(s) for s in self._lots}

    def realized_pnl_of(self, symbol: str) -> Decimal:
        return self._realized.get(symbol, ZERO)

    @property
    def realized_pnl(self) -> Decimal:
        """Gross of fees; subtract ``fees_paid_usd`` for the net figure."""
        return sum(self._realized.values(), ZERO)

    def open_cost(self) -> Decimal:
        return sum((p.cost for p in self.positions().values()), ZERO)

    def unrealized_pnl(self) -> Decimal:
        return sum(
            (p.unrealized_pnl(self._marks[s]) for s, p in self.positions().items() if p.quantity),
            ZERO,
        )

    def equity(self) -> Decimal:
        """Cash plus every held asset at its latest mark, in USD."""
        held = ZERO
        for symbol, lots in self._lots.items():
            if lots:
                held += self.total(self.instruments[symbol].base) * self._marks[symbol]
        return self.cash + held

    def record_equity(self, ts_ns: int) -> EquityPoint:
        """Append the current equity to the curve; update the high-water mark and drawdowns."""
        point = EquityPoint(ts_ns, self.equity())
        self.equity_curve.append(point)
        day = ts_ns // NS_PER_DAY
        if day != self._day:
            self._day, self._day_peak = day, point.equity
        self._day_peak = max(self._day_peak, point.equity)
        self.high_water_mark = max(self.high_water_mark, point.equity)
        self.max_drawdown = max(self.max_drawdown, self.drawdown())
        return point

    def drawdown(self) -> Decimal:
        """Fall from the high-water mark, as a fraction of it (0 at a new high)."""
        if self.high_water_mark <= ZERO:
            return ZERO
        return max(ZERO, (self.high_water_mark - self.equity()) / self.high_water_mark)

    def daily_drawdown(self) -> Decimal:
        """Fall from the highest equity recorded this UTC day, as a fraction of it."""
        if self._day_peak <= ZERO:
            return ZERO
        return max(ZERO, (self._day_peak - self.equity()) / self._day_peak)
