"""LocalBook against Kraken's v2 checksum example and hand-built books.

The example is the BTC/USD snapshot of "Spot Websockets (v2) Book Checksum"
(https://docs.kraken.com/api/docs/guides/spot-ws-book-v2; price_precision 1, qty_precision
8), whose documented checksum is 3310070434 and whose first ask is documented as
"45285.2" + "0.00100000" -> "452852100000".
"""

from __future__ import annotations

import json
import zlib
from decimal import Decimal as D
from typing import Any

import pytest

from aether.venues.kraken.book import BookError, LocalBook

DOC_SNAPSHOT = """
{"channel": "book", "type": "snapshot", "data": [{
  "symbol": "BTC/USD",
  "bids": [
    {"price": 45283.5, "qty": 0.10000000}, {"price": 45283.4, "qty": 1.54582015},
    {"price": 45282.1, "qty": 0.10000000}, {"price": 45281.0, "qty": 0.10000000},
    {"price": 45280.3, "qty": 1.54592586}, {"price": 45279.0, "qty": 0.07990000},
    {"price": 45277.6, "qty": 0.03310103}, {"price": 45277.5, "qty": 0.30000000},
    {"price": 45277.3, "qty": 1.54602737}, {"price": 45276.6, "qty": 0.15445238}
  ],
  "asks": [
    {"price": 45285.2, "qty": 0.00100000}, {"price": 45286.4, "qty": 1.54571953},
    {"price": 45286.6, "qty": 1.54571109}, {"price": 45289.6, "qty": 1.54560911},
    {"price": 45290.2, "qty": 0.15890660}, {"price": 45291.8, "qty": 1.54553491},
    {"price": 45294.7, "qty": 0.04454749}, {"price": 45296.1, "qty": 0.35380000},
    {"price": 45297.5, "qty": 0.09945542}, {"price": 45299.5, "qty": 0.18772827}
  ],
  "checksum": 3310070434
}]}
"""
DOC_CHECKSUM = 3310070434


def lv(price: str, qty: str) -> dict[str, D]:
    return {"price": D(price), "qty": D(qty)}


def crc(text: str) -> int:
    return zlib.crc32(text.encode()) & 0xFFFFFFFF


def doc_book(depth: int = 10) -> tuple[LocalBook, dict[str, Any]]:
    data = json.loads(DOC_SNAPSHOT, parse_float=D)["data"][0]
    book = LocalBook(price_precision=1, qty_precision=8, depth=depth)
    book.apply_snapshot(data["bids"], data["asks"])
    return book, data


def test_reproduces_the_documented_checksum() -> None:
    book, data = doc_book()
    assert data["checksum"] == DOC_CHECKSUM
    assert book.checksum_text().startswith("452852100000")
    assert book.checksum() == DOC_CHECKSUM
    assert book.verify(DOC_CHECKSUM)
    assert not book.verify(DOC_CHECKSUM + 1)


def test_the_documented_levels_come_out_best_first() -> None:
    book, _ = doc_book()
    assert book.asks()[0] == (D("45285.2"), D("0.00100000"))
    assert book.bids()[0] == (D("45283.5"), D("0.10000000"))
    assert [p for p, _ in book.asks()] == sorted(p for p, _ in book.asks())
    assert [p for p, _ in book.bids()] == sorted((p for p, _ in book.bids()), reverse=True)


def test_the_checksum_covers_only_the_top_ten_whatever_the_depth() -> None:
    book, _ = doc_book(depth=25)
    book.apply_update(bids=[lv("45200.0", "5")], asks=[lv("45400.0", "5")])
    assert len(book.bids()) == len(book.asks()) == 11
    assert book.checksum() == DOC_CHECKSUM


def test_hand_built_book_formats_with_the_instrument_precision() -> None:
    # Precision 5 / 8: trailing zeros are written out, leading zeros dropped.
    book = LocalBook(price_precision=5, qty_precision=8, depth=10)
    book.apply_snapshot(
        bids=[lv("0.04765", "0.000005"), lv("0.0494", "1.5")],
        asks=[lv("0.0512", "12"), lv("0.05275", "0.00000500")],
    )
    expected = "5120" + "1200000000" + "5275" + "500" + "4940" + "150000000" + "4765" + "500"
    assert book.checksum_text() == expected
    assert book.checksum() == crc(expected)


def test_updates_apply_in_order_and_keep_each_side_sorted() -> None:
    book = LocalBook(price_precision=1, qty_precision=2, depth=10)
    book.apply_snapshot(bids=[lv("10.0", "1")], asks=[lv("11.0", "1")])
    book.apply_update(
        bids=[lv("9.5", "2"), lv("10.5", "3"), lv("10.5", "4")],
        asks=[lv("12.0", "1"), lv("11.5", "2")],
    )
    assert book.bids() == [(D("10.5"), D("4")), (D("10.0"), D("1")), (D("9.5"), D("2"))]
    assert book.asks() == [(D("11.0"), D("1")), (D("11.5"), D("2")), (D("12.0"), D("1"))]
    expected = "110100" + "115200" + "120100" + "105400" + "100100" + "95200"
    assert book.checksum_text() == expected


def test_qty_zero_deletes_the_level() -> None:
    book = LocalBook(price_precision=1, qty_precision=2, depth=10)
    book.apply_snapshot(bids=[lv("10.0", "1"), lv("9.0", "1")], asks=[lv("11.0", "1")])
    book.apply_update(bids=[lv("10.0", "0")], asks=[lv("11.0", "0.00")])
    assert book.bids() == [(D("9.0"), D("1"))]
    assert book.asks() == []
    assert book.checksum_text() == "90100"
    # Deleting a level the book does not hold is harmless.
    book.apply_update(bids=[lv("8.0", "0")], asks=[])
    assert book.bids() == [(D("9.0"), D("1"))]


def test_each_side_is_truncated_to_the_depth_after_an_update() -> None:
    book = LocalBook(price_precision=1, qty_precision=0, depth=3)
    book.apply_snapshot(
        bids=[lv("10", "1"), lv("9", "1"), lv("8", "1")],
        asks=[lv("11", "1"), lv("12", "1"), lv("13", "1")],
    )
    # Inserts inside the book push the worst level of each side out.
    book.apply_update(bids=[lv("9.0", "5"), lv("9.5", "0")], asks=[])
    book.apply_update(bids=[lv("8.5", "2")], asks=[lv("11.5", "2")])
    assert [p for p, _ in book.bids()] == [D(10), D(9), D("8.5")]
    assert [p for p, _ in book.asks()] == [D(11), D("11.5"), D(12)]
    # A level pushed out stays out: a later delete elsewhere does not bring it back.
    book.apply_update(bids=[lv("10", "0")], asks=[])
    assert [p for p, _ in book.bids()] == [D(9), D("8.5")]


def test_the_same_price_written_differently_is_one_level() -> None:
    book = LocalBook(price_precision=1, qty_precision=2, depth=10)
    book.apply_snapshot(bids=[lv("45281.0", "1")], asks=[])
    book.apply_update(bids=[lv("45281", "2")], asks=[])
    assert book.bids() == [(D("45281"), D("2"))]
    assert book.checksum_text() == "452810200"


def test_a_snapshot_replaces_the_book() -> None:
    book, _ = doc_book()
    book.apply_snapshot(bids=[lv("1.0", "1")], asks=[lv("2.0", "1")])
    assert book.bids() == [(D("1.0"), D("1"))]
    assert book.asks() == [(D("2.0"), D("1"))]


@pytest.mark.parametrize(
    "level",
    [
        {"price": D("10.01"), "qty": D("1")},  # finer than the price precision
        {"price": D("10.0"), "qty": D("0.001")},  # finer than the qty precision
        {"price": D("-10.0"), "qty": D("1")},
        {"price": D("10.0"), "qty": D("-1")},
        {"price": 10.0, "qty": D("1")},  # a float
        {"price": D("NaN"), "qty": D("1")},
        {"price": D("10.0")},
    ],
)
def test_bad_levels_are_refused(level: dict[str, Any]) -> None:
    book = LocalBook(price_precision=1, qty_precision=2, depth=10)
    with pytest.raises(BookError):
        book.apply_update(bids=[level], asks=[])


def test_bad_construction_is_refused() -> None:
    with pytest.raises(ValueError, match="depth"):
        LocalBook(1, 8, 0)
    with pytest.raises(ValueError, match="precision"):
        LocalBook(-1, 8, 10)
