"""Bus payloads round-trip exactly: Decimal strings as printed, times kept, bad fields named."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from aether.domain.bars import Bar
from aether.domain.events import (
    BookLevel,
    BookSnapshot,
    MarketDataFresh,
    MarketDataStale,
    Quote,
    Tick,
)
from aether.marketdata import wire

D = Decimal


def test_a_trade_round_trips_with_id_side_and_times() -> None:
    tick = Tick("BTC/USD", D("50123.40"), D("0.00000010"), 1_700_000_000_123_456_000, 42, "sell")
    raw = wire.encode_trade("XBTUSD", tick, 1_700_000_000_200_000_000)
    body = orjson.loads(raw)
    # Strings exactly as printed (trailing zeros kept), never floats or exponents.
    assert body["price"] == "50123.40"
    assert body["qty"] == "0.00000010"
    message = wire.decode(raw)
    assert (message.kind, message.symbol) == ("trade", "XBTUSD")
    assert message.recv_ns - message.ts_ns == 76_544_000
    assert message.event == Tick("XBTUSD", tick.price, tick.quantity, tick.ts_ns, 42, "sell")


def test_a_book_round_trips_levels_in_order() -> None:
    book = BookSnapshot(
        "BTC/USD",
        (BookLevel(D("100.1"), D("2")), BookLevel(D("100.0"), D("1E-8"))),
        (BookLevel(D("100.2"), D("3.5")),),
        5,
    )
    raw = wire.encode_book("XBTUSD", book, 9)
    assert orjson.loads(raw)["bids"] == [["100.1", "2"], ["100.0", "0.00000001"]]
    event = wire.decode(raw).event
    assert isinstance(event, BookSnapshot)
    assert (event.bids, event.asks, event.ts_ns) == (book.bids, book.asks, 5)


def test_ticker_ohlc_and_status_round_trip() -> None:
    quote = Quote("BTC/USD", D("1.1"), D("2"), D("1.2"), D("3"), D("1.15"), 7)
    assert wire.decode(wire.encode_ticker("XBTUSD", quote, 8)).event == Quote(
        "XBTUSD", D("1.1"), D("2"), D("1.2"), D("3"), D("1.15"), 7
    )
    bar = Bar("BTC/USD", 1_700_000_040, 60, D("1"), D("3"), D("0.5"), D("2"), D("10.25"), 4)
    decoded = wire.decode(wire.encode_ohlc("XBTUSD", bar, 8)).event
    assert decoded == Bar(
        "XBTUSD", 1_700_000_040, 60, D("1"), D("3"), D("0.5"), D("2"), D("10.25"), 4
    )
    stale = MarketDataStale("XBTUSD", 100, 200)
    assert wire.decode(wire.encode_status(stale, "no data")).event == stale
    fresh = MarketDataFresh("XBTUSD", 300)
    assert wire.decode(wire.encode_status(fresh)).event == fresh
    gap = wire.MarketGapNotice("XBTUSD", "book", "websocket: checksum mismatch", 10, None)
    message = wire.decode(wire.encode_gap(gap, 11))
    assert (message.kind, message.event) == ("status", gap)


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        (b"[1]", "JSON object"),
        (b'{"kind": "trade", "symbol": "XBTUSD", "ts_ns": 1, "recv_ns": 1}', "'price'"),
        (
            b'{"kind": "trade", "symbol": "X", "ts_ns": 1, "recv_ns": 1, "price": 1.5, "qty": "1"}',
            "'price' must be a decimal string",
        ),
        (
            b'{"kind": "book", "symbol": "X", "ts_ns": 1, "recv_ns": 1, '
            b'"bids": [["1"]], "asks": []}',
            "bids[0]",
        ),
        (b'{"kind": "nope", "symbol": "X", "ts_ns": 1, "recv_ns": 1}', "'kind'"),
        (b'{"kind": "status", "symbol": "X", "ts_ns": 1, "recv_ns": 1, "state": "odd"}', "state"),
        (b'{"kind": "trade", "symbol": "X", "ts_ns": "1", "recv_ns": 1}', "'ts_ns'"),
    ],
)
def test_malformed_payloads_name_the_field(payload: bytes, named: str) -> None:
    with pytest.raises(wire.WireError, match=named.replace("[", r"\[").replace("]", r"\]")):
        wire.decode(payload)
