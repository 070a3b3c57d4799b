"""The ``book`` channel's levels: the emulator's CRC32 checksum and the per-subscription
diff that turns the exchange's book into Kraken's v2 updates.

Checksum, from Kraken's "Spot Websockets (v2) Book Checksum" guide: the top 10 asks from
the lowest price up, then the top 10 bids from the highest down; each price and quantity
is written with the instrument's precision, ``.`` removed and leading zeros stripped; all
concatenated; CRC32 as an unsigned integer. It covers the top 10 whatever the depth.

Updates: a subscription remembers the levels it last sent (its depth's worth). An update
carries every level of the new top-``depth`` whose quantity changed or that is new, and
``qty`` 0 for each remembered level that left the book. Levels pushed out of scope by
better ones are not sent: the client drops them when it truncates to its depth, as Kraken
asks clients to do.
"""

from __future__ import annotations

import zlib
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from aether.domain.money import ZERO
from aether.emulator.kraken_format import fmt

__all__ = ["CHECKSUM_LEVELS", "DEPTHS", "BookView", "Side", "checksum", "checksum_text"]

CHECKSUM_LEVELS = 10
DEPTHS = (10, 25, 100, 500, 1000)

#: One side of a book, best first: (price, quantity).
Side = Sequence[tuple[Decimal, Decimal]]


def _digits(value: Decimal, places: int) -> str:
    return fmt(value, places).replace(".", "").lstrip("0")


def checksum_text(asks: Side, bids: Side, price_places: int, qty_places: int) -> str:
    """The string the checksum is taken over (asks best first, then bids best first)."""
    parts = [
        _digits(price, price_places) + _digits(qty, qty_places)
        for side in (asks, bids)
        for price, qty in side[:CHECKSUM_LEVELS]
    ]
    return "".join(parts)


def checksum(asks: Side, bids: Side, price_places: int, qty_places: int) -> int:
    """Kraken's v2 book checksum (``zlib.crc32`` is unsigned)."""
    return zlib.crc32(checksum_text(asks, bids, price_places, qty_places).encode("ascii"))


def _diff(
    view: dict[Decimal, Decimal], top: Side, whole: Container[Decimal]
) -> tuple[dict[Decimal, Decimal], list[tuple[Decimal, Decimal]]]:
    new = dict(top)
    changed = [(price, qty) for price, qty in top if view.get(price) != qty]
    gone = [(price, ZERO) for price in view if price not in new and price not in whole]
    return new, changed + gone


@dataclass(slots=True)
class BookView:
    """What one subscriber was last sent of one pair's book."""

    depth: int
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)

    def snapshot(self, asks: Side, bids: Side) -> tuple[Side, Side]:
        """Start over from the book: the levels a ``snapshot`` message carries."""
        top_asks, top_bids = asks[: self.depth], bids[: self.depth]
        self.asks, self.bids = dict(top_asks), dict(top_bids)
        return top_asks, top_bids

    def update(
        self,
        asks: Side,
        bids: Side,
        ask_prices: Container[Decimal] | None = None,
        bid_prices: Container[Decimal] | None = None,
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """The levels an ``update`` carries to bring the subscriber to the book (both
        empty when nothing in scope changed); ``asks``/``bids`` are the whole book and
        ``ask_prices``/``bid_prices`` their prices (built here when not given, so that
        callers serving many subscribers of one book can build them once)."""
        if ask_prices is None:
            ask_prices = frozenset(price for price, _ in asks)
        if bid_prices is None:
            bid_prices = frozenset(price for price, _ in bids)
        self.asks, ask_changes = _diff(self.asks, asks[: self.depth], ask_prices)
        self.bids, bid_changes = _diff(self.bids, bids[: self.depth], bid_prices)
        ask_changes.sort(key=lambda level: level[0])
        bid_changes.sort(key=lambda level: level[0], reverse=True)
        return ask_changes, bid_changes
