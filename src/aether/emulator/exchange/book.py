"""A pair's limit order book: price levels in priority order, orders FIFO within a level.

Each side keeps its level prices in a sorted list with the best price last, so the best
level is found in O(1), a new level is placed by bisection and an exhausted best level is
dropped from the end. Orders at a level sit in a deque: time priority is arrival order.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from aether.domain.money import ZERO
from aether.emulator.exchange.orders import Order, Side

__all__ = ["Book", "BookSide", "DepthLevel", "Level"]


@dataclass(slots=True)
class Level:
    """Resting orders at one price; ``volume`` is their total remaining quantity."""

    price: Decimal
    orders: deque[Order] = field(default_factory=deque)
    volume: Decimal = ZERO
    updated_ns: int = 0


@dataclass(frozen=True, slots=True)
class DepthLevel:
    """One row of Kraken's ``Depth``: price, aggregated volume and last change time."""

    price: Decimal
    volume: Decimal
    updated_ns: int


class BookSide:
    """Bids (best = highest) or asks (best = lowest) of one pair."""

    __slots__ = ("_keys", "_levels", "_sign", "side")

    def __init__(self, side: Side) -> None:
        self.side = side
        # Keys are sign * price in ascending order, so the best level is always the last key.
        self._sign = 1 if side is Side.BUY else -1
        self._keys: list[Decimal] = []
        self._levels: dict[Decimal, Level] = {}

    def __len__(self) -> int:
        return len(self._levels)

    def best(self) -> Level | None:
        return self._levels[self._sign * self._keys[-1]] if self._keys else None

    def add(self, order: Order, now_ns: int) -> None:
        """Queue ``order`` (it must have a limit price) behind its price's earlier orders."""
        price = order.limit_price
        if price is None:
            raise ValueError(f"{order.txid}: only priced orders rest in the book")
        level = self._levels.get(price)
        if level is None:
            level = self._levels[price] = Level(price)
            insort(self._keys, self._sign * price)
        level.orders.append(order)
        level.volume += order.remaining
        level.updated_ns = now_ns

    def remove(self, order: Order, now_ns: int) -> None:
        """Take ``order`` out of its level (a cancel or expiry): O(orders at that price)."""
        price = order.limit_price
        level = self._levels[price] if price is not None else None
        if level is None:
            raise ValueError(f"{order.txid}: not in the book")
        level.orders.remove(order)
        level.volume -= order.remaining
        level.updated_ns = now_ns
        if not level.orders:
            self._drop(level)

    def filled(self, level: Level, quantity: Decimal, now_ns: int) -> None:
        """Account for ``quantity`` traded by the level's first order (already updated)."""
        level.volume -= quantity
        level.updated_ns = now_ns
        if level.orders[0].remaining == ZERO:
            level.orders.popleft()
            if not level.orders:
                self._drop(level)

    def _drop(self, level: Level) -> None:
        del self._levels[level.price]
        key = self._sign * level.price
        self._keys.pop(bisect_left(self._keys, key))

    def levels(self) -> Iterator[Level]:
        """Levels from the best outwards."""
        for key in reversed(self._keys):
            yield self._levels[self._sign * key]

    def depth(self, count: int) -> list[DepthLevel]:
        rows: list[DepthLevel] = []
        for level in self.levels():
            if len(rows) == count:
                break
            rows.append(DepthLevel(level.price, level.volume, level.updated_ns))
        return rows


class Book:
    """Both sides of one pair's book."""

    __slots__ = ("asks", "bids")

    def __init__(self) -> None:
        self.bids = BookSide(Side.BUY)
        self.asks = BookSide(Side.SELL)

    def same(self, side: Side) -> BookSide:
        """Where an order of ``side`` rests."""
        return self.bids if side is Side.BUY else self.asks

    def opposite(self, side: Side) -> BookSide:
        """What an order of ``side`` trades against."""
        return self.asks if side is Side.BUY else self.bids

    @staticmethod
    def crosses(side: Side, limit: Decimal | None, level_price: Decimal) -> bool:
        """Whether an order of ``side`` limited at ``limit`` (None: market) takes the level."""
        if limit is None:
            return True
        return level_price <= limit if side is Side.BUY else level_price >= limit
