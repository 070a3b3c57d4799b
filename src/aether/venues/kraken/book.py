"""A local copy of a Kraken WebSocket v2 ``book`` subscription, with its CRC32 checksum.

Rules from "Spot Websockets (v2) Book Checksum" (docs.kraken.com/api/docs/guides/
spot-ws-book-v2, also docs.kraken.com/exchange/guides/websockets/book-checksum-v2):

* apply every level of a message before checking its checksum;
* ``qty`` 0 removes the price level;
* after each message, truncate each side to the subscribed depth (Kraken sends no
  ``qty`` 0 for levels that fall out of scope);
* the checksum covers the top 10 levels only, whatever the depth: asks from the lowest
  price up, then bids from the highest down; each price and qty is written with the
  instrument's precision (``price_precision``/``qty_precision`` of the ``instrument``
  channel), ``.`` removed and leading zeros stripped, all concatenated; CRC32 unsigned.

Levels arrive as mappings with ``price`` and ``qty`` Decimals (parse the JSON with
``parse_float=Decimal``). A value with more decimals than the instrument's precision, a
negative value or a float is refused with :class:`BookError`: the precision is wrong or
the message is, and either way the book can no longer be trusted.

Speed: each level keeps its checksum text from when it was set, sides are dicts plus a
sorted price list kept with ``bisect``, so a checksum is a join and one CRC.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from decimal import Decimal

__all__ = ["CHECKSUM_LEVELS", "BookError", "Level", "LocalBook"]

#: Levels per side that the checksum covers.
CHECKSUM_LEVELS = 10

Level = Mapping[str, Decimal]


class BookError(ValueError):
    """A book message that cannot be applied; the local book must be resynchronised."""


def _digits(value: Decimal, precision: int, field: str) -> str:
    """``value`` at ``precision`` decimals with the point and leading zeros removed."""
    if type(value) is not Decimal or not value.is_finite():
        raise BookError(f"{field} must be a finite Decimal, got {type(value).__name__} {value!r}")
    scaled = value.scaleb(precision)
    whole = int(scaled)
    if whole != scaled or whole < 0:
        raise BookError(f"{field} {value} is negative or finer than {precision} decimals")
    # str(int) already has no leading zeros; "0.00100000" at 8 decimals -> "100000".
    return str(whole)


class _Side:
    """One side: price -> (qty, checksum text) and its prices in ascending order."""

    __slots__ = ("levels", "prices")

    def __init__(self) -> None:
        self.levels: dict[Decimal, tuple[Decimal, str]] = {}
        self.prices: list[Decimal] = []

    def set(self, price: Decimal, qty: Decimal, text: str) -> None:
        if price not in self.levels:
            insort(self.prices, price)
        self.levels[price] = (qty, text)

    def remove(self, price: Decimal) -> None:
        if self.levels.pop(price, None) is not None:
            del self.prices[bisect_left(self.prices, price)]

    def keep_lowest(self, depth: int) -> None:
        for price in self.prices[depth:]:
            del self.levels[price]
        del self.prices[depth:]

    def keep_highest(self, depth: int) -> None:
        cut = len(self.prices) - depth
        if cut > 0:
            for price in self.prices[:cut]:
                del self.levels[price]
            del self.prices[:cut]


class LocalBook:
    """The book of one symbol at the subscribed ``depth`` (10, 25, 100, 500 or 1000)."""

    def __init__(self, price_precision: int, qty_precision: int, depth: int) -> None:
        if price_precision < 0 or qty_precision < 0:
            raise ValueError("precisions must not be negative")
        if depth < 1:
            raise ValueError(f"depth must be positive, got {depth}")
        self.price_precision = price_precision
        self.qty_precision = qty_precision
        self.depth = depth
        self._bids = _Side()
        self._asks = _Side()

    def apply_snapshot(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Replace the whole book with a ``snapshot`` message's levels."""
        self._bids = _Side()
        self._asks = _Side()
        self.apply_update(bids, asks)

    def apply_update(self, bids: Iterable[Level], asks: Iterable[Level]) -> None:
        """Apply an ``update`` message's levels in order, then truncate to the depth."""
        self._apply(self._bids, bids)
        self._apply(self._asks, asks)
        # Bids keep the highest prices, asks the lowest.
        self._bids.keep_highest(self.depth)
        self._asks.keep_lowest(self.depth)

    def _apply(self, side: _Side, levels: Iterable[Level]) -> None:
        pp, qp = self.price_precision, self.qty_precision
        for level in levels:
            try:
                price, qty = level["price"], level["qty"]
            except (KeyError, TypeError):
                raise BookError(f"a level needs price and qty, got {level!r}") from None
            price_text, qty_text = _digits(price, pp, "price"), _digits(qty, qp, "qty")
            if qty_text == "0":
                side.remove(price)
            else:
                side.set(price, qty, price_text + qty_text)

    def bids(self) -> list[tuple[Decimal, Decimal]]:
        """(price, qty) from the best (highest) bid down."""
        levels = self._bids.levels
        return [(p, levels[p][0]) for p in reversed(self._bids.prices)]

    def asks(self) -> list[tuple[Decimal, Decimal]]:
        """(price, qty) from the best (lowest) ask up."""
        levels = self._asks.levels
        return [(p, levels[p][0]) for p in self._asks.prices]

    def checksum_text(self) -> str:
        """The string the checksum is taken over (useful when a check fails)."""
        asks, bids = self._asks, self._bids
        top_asks = [asks.levels[p][1] for p in asks.prices[:CHECKSUM_LEVELS]]
        top_bids = [bids.levels[p][1] for p in bids.prices[: -CHECKSUM_LEVELS - 1 : -1]]
        return "".join(top_asks) + "".join(top_bids)

    def checksum(self) -> int:
        """Kraken's CRC32 of the top 10 levels, as an unsigned 32-bit integer."""
        # zlib.crc32 is unsigned since Python 3, as Kraken's checksum is.
        return zlib.crc32(self.checksum_text().encode("ascii"))

    def verify(self, expected: int) -> bool:
        """True when the local book matches the ``checksum`` Kraken sent."""
        return self.checksum() == expected
