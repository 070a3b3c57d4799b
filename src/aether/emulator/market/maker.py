"""The emulator's market: a market maker's book around the generator's price, and the
generator's trades printed against it.

For each trade the generator prints at price ``p``, :class:`PairFeed` first cancels the maker's
quotes at or through ``p`` (every maker bid left is below ``p`` and every maker ask above it);
then the maker posts ``p`` on the side the trade takes and a second house account (the "flow")
takes it with an immediate-or-cancel limit at ``p``. The public tape thus prints the
generator's price, size and taker side, and client orders resting at or better than ``p`` are
filled first, by price-time priority, as on a real exchange. Once a tick's trades are printed
the ladder is moved to the last price (:func:`~aether.emulator.market.maker_book.move_book`), once
per tick and not per trade: a fast replay moves the price by many rungs a trade, and
re-quoting the whole ladder for every print was most of the emulator's CPU time. A tick that
falls behind prints at most its budget and skips the rest, so its cost stays bounded.
Both house accounts hold enough money never to run out in a demo or a test.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal

from aether.domain.events import BookLevel
from aether.domain.instruments import Instrument
from aether.domain.orders import Side
from aether.emulator.exchange.errors import ExchangeError
from aether.emulator.exchange.matching import Exchange
from aether.emulator.exchange.orders import OrderRequest, OrderStatus
from aether.emulator.kraken_format import decimals_of
from aether.emulator.market.generator import MarketGenerator, MarketStep, PairGrid, SyntheticTrade
from aether.emulator.market.maker_book import Book, DepthProfile, move_book

__all__ = ["HOUSE_BALANCE", "BookShape", "PairFeed"]

log = logging.getLogger(__name__)

HOUSE_BALANCE = Decimal(10) ** 15


@dataclass(frozen=True, slots=True)
class BookShape:
    """How deep and wide the maker quotes: ``levels`` a side, ``spread_bps`` between best bid
    and ask, ``level_usd`` of quote at the best level, rungs ``rung_bps`` apart."""

    levels: int = 25
    spread_bps: Decimal = Decimal(10)
    level_usd: Decimal = Decimal(5000)
    rung_bps: Decimal = Decimal(1)
    size_tolerance: Decimal = Decimal("0.5")


class PairFeed:
    """One pair's generator, paced in emulator time, and the maker's resting ladder."""

    def __init__(
        self,
        exchange: Exchange,
        instrument: Instrument,
        generator: MarketGenerator,
        maker: str,
        flow: str,
        shape: BookShape,
    ) -> None:
        self.exchange = exchange
        self.instrument = instrument
        self.generator = generator
        self.maker = maker
        self.flow = flow
        self.shape = shape
        self.grid = PairGrid(
            instrument.symbol, instrument.tick_size, decimals_of(instrument.lot_size)
        )
        self._profile: DepthProfile | None = None
        self._ladder: dict[tuple[Side, Decimal], str] = {}
        self._steps: Iterator[MarketStep] = iter(())
        self._pending: list[SyntheticTrade] = []
        self._last_price: Decimal | None = None
        self._gen_origin = 0
        self._wall_origin = 0
        self.speed = 1.0

    @property
    def pair(self) -> str:
        return self.instrument.symbol

    def start(self, now_ns: int, speed: float) -> None:
        """Start the generator at ``now_ns`` and print its first trade at once, so the book
        and the ticker have a price from the start."""
        self.speed = speed
        self._steps = self.generator.steps(now_ns)
        first = self._next_trade()
        if first is None:
            return
        self._gen_origin, self._wall_origin = first.ts_ns, now_ns
        self.apply(first, now_ns)
        self.requote(now_ns)

    def _next_trade(self) -> SyntheticTrade | None:
        while not self._pending:
            step = next(self._steps, None)
            if step is None:
                return None
            self._pending = list(reversed(step.trades))
        return self._pending.pop()

    def tick(self, now_ns: int, budget: int) -> int:
        """Print every generator trade due by ``now_ns`` (at most ``budget``), then move the
        ladder to the last price; a replay that ends starts over. When over budget the feed
        skips ahead rather than fall behind."""
        done = self._print_due(now_ns, budget)
        if done:
            self.requote(now_ns)
        return done

    def _print_due(self, now_ns: int, budget: int) -> int:
        due = self._gen_origin + int((now_ns - self._wall_origin) * self.speed)
        done = 0
        while done < budget:
            trade = self._next_trade()
            if trade is None:  # a finite replay ran out: play it again from now
                self._steps = self.generator.steps(now_ns)
                trade = self._next_trade()
                if trade is None:
                    return done
                self._gen_origin, self._wall_origin = trade.ts_ns, now_ns
                due = trade.ts_ns
            if trade.ts_ns > due:
                self._pending.append(trade)
                return done
            self.apply(trade, now_ns)
            done += 1
        self._gen_origin, self._wall_origin = due, now_ns  # skip the backlog
        return done

    # --- the maker's book and the print --------------------------------------------------

    def apply(self, trade: SyntheticTrade, now_ns: int) -> None:
        """Print ``trade`` against the maker, first cancelling the maker's quotes at or
        through its price (the ladder itself moves in :meth:`requote`)."""
        price = trade.price
        if self._profile is None:
            self._profile = self._make_profile(price)
        self._last_price = price
        self._cancel_crossed(price, now_ns)
        qty = self._tradable_qty(trade.qty, price)
        maker_side = Side.SELL if trade.side is Side.BUY else Side.BUY
        post = self._place(self.maker, maker_side, price, qty, "GTC", now_ns)
        self._place(self.flow, trade.side, price, qty, "IOC", now_ns)
        if post is not None:
            with contextlib.suppress(ExchangeError):  # fully taken, as it should be
                self.exchange.cancel(self.maker, post, now_ns)

    def _make_profile(self, price: Decimal) -> DepthProfile:
        lot = self.instrument.lot_size
        base = max(
            (self.shape.level_usd / price).quantize(lot, ROUND_DOWN),
            self.instrument.min_quantity,
            lot,
        )
        return DepthProfile(base_qty=base, growth=Decimal("1.1"), step_ticks=1)

    def _step_ticks(self, price: Decimal) -> int:
        return max(1, int(price * self.shape.rung_bps / 10_000 / self.instrument.tick_size))

    def _current_book(self) -> Book:
        if not self._ladder:
            return (), ()
        remaining = self.exchange.open_remaining(self.maker, list(self._ladder.values()))
        bids: list[BookLevel] = []
        asks: list[BookLevel] = []
        for key, txid in list(self._ladder.items()):
            left = remaining.get(txid)
            if left is None:  # filled (or cancelled) since the last look
                del self._ladder[key]
                continue
            (bids if key[0] is Side.BUY else asks).append(BookLevel(key[1], left))
        return tuple(bids), tuple(asks)

    def _cancel_crossed(self, price: Decimal, now_ns: int) -> None:
        """Cancel the maker's bids at or above ``price`` and asks at or below it."""
        crossed = [
            key
            for key in self._ladder
            if (key[1] >= price if key[0] is Side.BUY else key[1] <= price)
        ]
        for key in crossed:
            txid = self._ladder.pop(key)
            with contextlib.suppress(ExchangeError):  # filled meanwhile
                self.exchange.cancel(self.maker, txid, now_ns)

    def requote(self, now_ns: int) -> None:
        """Move the maker's ladder to the last printed price."""
        if self._last_price is not None:
            self._move_ladder(self._last_price, now_ns)

    def _move_ladder(self, mid: Decimal, now_ns: int) -> None:
        assert self._profile is not None
        profile = DepthProfile(
            base_qty=self._profile.base_qty,
            growth=self._profile.growth,
            step_ticks=self._step_ticks(mid),
        )
        diff = move_book(
            self._current_book(),
            mid,
            self.shape.spread_bps,
            self.shape.levels,
            profile,
            self.grid,
            size_tolerance=self.shape.size_tolerance,
        )
        for quote in diff.cancel:
            txid = self._ladder.pop((quote.side, quote.price), None)
            if txid is not None:
                with contextlib.suppress(ExchangeError):  # filled meanwhile
                    self.exchange.cancel(self.maker, txid, now_ns)
        for quote in diff.add:
            txid = self._place(self.maker, quote.side, quote.price, quote.qty, "GTC", now_ns)
            if txid is not None:
                self._ladder[(quote.side, quote.price)] = txid

    def _tradable_qty(self, qty: Decimal, price: Decimal) -> Decimal:
        """``qty`` raised to the pair's order and cost minimums (whole lots)."""
        lot = self.instrument.lot_size
        floor_cost = (self.instrument.min_cost / price / lot).to_integral_value(ROUND_CEILING)
        return max(qty, self.instrument.min_quantity, floor_cost * lot)

    def _place(
        self, account: str, side: Side, price: Decimal, qty: Decimal, tif: str, now_ns: int
    ) -> str | None:
        """A house limit order; its txid while it rests, None once done or refused."""
        request = OrderRequest(
            pair=self.pair,
            side=side.value,
            ordertype="limit",
            volume=qty,
            price=price,
            timeinforce=tif,
        )
        try:
            result = self.exchange.place(account, request, now_ns)
        except ExchangeError as exc:  # e.g. a price the pair refuses: skip this quote
            log.debug("house order refused on %s: %s", self.pair, exc.kraken_error)
            return None
        order = result.order
        if order is None or order.status is not OrderStatus.OPEN:
            return None
        return result.txid
