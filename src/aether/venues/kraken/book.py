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

Levels arrive as mappings with ``price`` and ``qty`` as the JSON number text (parse the
JSON with ``parse_float=str, parse_int=str``; the digits as sent are what the checksum
needs, and no Decimal is built for a level that is only removed) or as Decimals. A value
with more decimals than the instrument's precision, a negative value, an exponent or a float
is refused with :class:`BookError`: the precision is wrong or the message is, and either
way the book can no longer be trusted.

Speed: a level is keyed by its price as an integer at the instrument's precision and keeps
its ``BookLevel`` and checksum text from when it was set, with a sorted key list kept with
``bisect``; a checksum is a join and one CRC, and the top of the book reuses the levels.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left, insort
from collections.abc import Iterable, Mapping
from decimal import Decimal

from aether.domain.events import BookLevel

__all__ = ["CHECKSUM_LEVELS", "BookError", "Level", "LocalBook"]

#: Levels per side that the checksum covers.
CHECKSUM_LEVELS = 10

Level = Mapping[str, str | Decimal]


class BookError(ValueError):
    """A book message that cannot be applied; the local book must be resynchronised."""


def _scaled(value: str | Decimal, precision: int, field: str) -> tuple[int, str]:
    """``value`` as an integer at ``precision`` decimals, and its plain text."""
    if type(value) is str:
        text = value
    elif type(value) is Decimal and value.is_finite():
        text = format(value, "f")
    else:
        raise BookError(f"{field} must be JSON number text or a finite Decimal, got {value!r}")
    whole, _, frac = text.partition(".")
    places = len(frac)
    if places > precision:
        if frac[precision:].strip("0"):
            raise BookError(f"{field} {text} is finer than {precision} decimals")
        frac = frac[:precision]
        places = precision
    digits = whole + frac
    # isdigit refuses a sign, an exponent, blanks and underscores, all of which int() takes.
    if not digits.isdigit():
        raise BookError(f"{field} {text!r} is not a plain non-negative decimal number")
    return int(digits) * _POWERS[precision - places], text


#: 10**n for the precisions Kraken uses (up to 18 decimals and then some).
_POWERS: tuple[int, ...] = tuple(10**n for n in range(40))


class _Side:
    """One side: scaled price -> (level, checksum text), and the keys in ascending order."""

    __slots__ = ("keys", "levels")

    def __init__(self) -> None:
        self.levels: dict[int, tuple[BookLevel, str]] = {}
        self.keys: list[int] = []

    def set(self, key: int, level: BookLevel, text: str) -> None:
        if key not in self.levels:
            insort(self.keys, key)
        self.levels[key] = (level, text)

    def remove(self, key: int) -> None:
        if self.levels.pop(key, None) is not None:
            del self.keys[bisect_left(self.keys, key)]

    def keep_lowest(self, depth: int) -> None:
        for key in self.keys[depth:]:
            del self.levels[key]
        del self.keys[depth:]

    def keep_highest(self, depth: int) -> None:
        cut = len(self.keys) - depth
        if cut > 0:
            for key in self.keys[:cut]:
                del self.levels[key]
            del self.keys[:cut]


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
        scaled = _scaled
        for level in levels:
            try:
                price, qty = level["price"], level["qty"]
            except (KeyError, TypeError):
                raise BookError(f"a level needs price and qty, got {level!r}") from None
            key, price_text = scaled(price, pp, "price")
            scaled_qty, qty_text = scaled(qty, qp, "qty")
            if not scaled_qty:
                side.remove(key)
                continue
            # str(int) has no leading zeros: "0.00100000" at 8 decimals -> "100000".
            side.set(key, BookLevel(Decimal(price_text), Decimal(qty_text)), f"{key}{scaled_qty}")

    def bid_levels(self) -> tuple[BookLevel, ...]:
        """Bids from the best (highest) down."""
        levels = self._bids.levels
        return tuple([levels[k][0] for k in reversed(self._bids.keys)])

    def ask_levels(self) -> tuple[BookLevel, ...]:
        """Asks from the best (lowest) up."""
        levels = self._asks.levels
        return tuple([levels[k][0] for k in self._asks.keys])

    def bids(self) -> list[tuple[Decimal, Decimal]]:
        """(price, qty) from the best (highest) bid down."""
        return [(level.price, level.quantity) for level in self.bid_levels()]

    def asks(self) -> list[tuple[Decimal, Decimal]]:
        """(price, qty) from the best (lowest) ask up."""
        return [(level.price, level.quantity) for level in self.ask_levels()]

    def checksum_text(self) -> str:
        """The string the checksum is taken over (useful when a check fails)."""
        asks, bids = self._asks, self._bids
        top_asks = [asks.levels[k][1] for k in asks.keys[:CHECKSUM_LEVELS]]
        top_bids = [bids.levels[k][1] for k in bids.keys[: -CHECKSUM_LEVELS - 1 : -1]]
        return "".join(top_asks) + "".join(top_bids)

    def checksum(self) -> int:
        """Kraken's CRC32 of the top 10 levels, as an unsigned 32-bit integer."""
        # zlib.crc32 is unsigned since Python 3, as Kraken's checksum is.
        return zlib.crc32(self.checksum_text().encode("ascii"))

    def verify(self, expected: int) -> bool:
        """True when the local book matches the ``checksum`` Kraken sent."""
        return self.checksum() == expected
