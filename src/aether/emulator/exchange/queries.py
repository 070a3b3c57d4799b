"""The exchange's read side: balances, fee tiers, orders and trades of an account, and a
pair's depth and public tape. Nothing here changes state or moves time (the write side,
matching and triggers, is :class:`aether.emulator.exchange.matching.Exchange`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from aether.domain.instruments import FeeTier
from aether.emulator.exchange.book import DepthLevel
from aether.emulator.exchange.errors import invalid_argument
from aether.emulator.exchange.exact import exact
from aether.emulator.exchange.orders import ExecutionEvent, OrderInfo, PublicTrade, Trade
from aether.emulator.exchange.settlement import ExchangeState

__all__ = ["MAX_DEPTH_COUNT", "MAX_TRADES_COUNT", "Balance", "Depth", "ExchangeQueries"]

MAX_DEPTH_COUNT = 500
MAX_TRADES_COUNT = 1000


@dataclass(frozen=True, slots=True)
class Depth:
    pair: str
    asks: tuple[DepthLevel, ...]
    bids: tuple[DepthLevel, ...]


@dataclass(frozen=True, slots=True)
class Balance:
    """BalanceEx's entry: the balance and the part held by open orders."""

    balance: Decimal
    hold_trade: Decimal


def _is_count(count: object, most: int) -> bool:
    return isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= most


class ExchangeQueries(ExchangeState):
    """What the public and private read methods answer from the exchange's state."""

    def balances(self, account: str) -> dict[str, Balance]:
        """BalanceEx: every asset the account has held, with what open orders hold."""
        owner = self.accounts.get(account)
        return {a: Balance(b, owner.held(a)) for a, b in owner.balances.items()}

    @exact
    def fee_tier(self, account: str, pair: str, now_ns: int) -> tuple[Decimal, FeeTier]:
        """TradeVolume: the account's 30-day USD volume and the pair's tier at it."""
        volume = self.accounts.get(account).volume_30d(max(now_ns, self._now))
        return volume, self._instrument(pair).fees.tier_for(volume)

    def open_orders(self, account: str) -> list[OrderInfo]:
        return self._ledger.open_orders(account)

    def closed_orders(self, account: str) -> list[OrderInfo]:
        return self._ledger.closed_orders(account)

    def query_orders(self, account: str, txids: Sequence[str]) -> list[OrderInfo]:
        return self._ledger.query(account, txids)

    def open_remaining(self, account: str, txids: Sequence[str]) -> dict[str, Decimal]:
        """The unexecuted quantity of each of ``txids`` still open (closed ones are left
        out): what the market maker needs of its ladder, without an order snapshot each."""
        open_orders = self._ledger.records(account).open
        remaining: dict[str, Decimal] = {}
        for txid in txids:
            order = open_orders.get(txid)
            if order is not None:
                remaining[txid] = order.volume - order.vol_exec
        return remaining

    def trades_history(self, account: str) -> list[Trade]:
        return self._ledger.trades(account)

    def drain_executions(self, account: str) -> list[ExecutionEvent]:
        return self._ledger.drain(account)

    def depth(self, pair: str, count: int = 100) -> Depth:
        """Depth: up to ``count`` (1..500) levels a side, best first."""
        instrument = self._instrument(pair)
        if not _is_count(count, MAX_DEPTH_COUNT):
            raise invalid_argument("count")
        book = self._books[instrument.symbol]
        return Depth(
            instrument.symbol, tuple(book.asks.depth(count)), tuple(book.bids.depth(count))
        )

    def recent_trades(
        self, pair: str, since_ns: int | None = None, count: int = MAX_TRADES_COUNT
    ) -> tuple[list[PublicTrade], int]:
        """Trades: public trades after ``since_ns`` and the cursor for the next call (the
        last trade's time, or ``since_ns`` when nothing is newer)."""
        tape = self._tapes[self._instrument(pair).symbol]
        if not _is_count(count, MAX_TRADES_COUNT):
            raise invalid_argument("count")
        trades = tape.since(since_ns, count)
        cursor = trades[-1].time_ns if trades else (since_ns if since_ns is not None else 0)
        return trades, cursor

    def last_price(self, pair: str) -> Decimal | None:
        return self._tapes[self._instrument(pair).symbol].last_price

    def drain_public_trades(self, pair: str) -> list[PublicTrade]:
        """Public trades since the last drain (for the WebSocket ``trade`` channel)."""
        return self._tapes[self._instrument(pair).symbol].drain()
