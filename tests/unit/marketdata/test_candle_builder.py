"""Candles from trades: no invented bars, first/last by time then id, reconciliation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aether.domain.bars import Bar
from aether.marketdata.candle_builder import (
    CandleAccumulator,
    candles_from_trades,
    interval_start,
    reconcile,
)
from aether.marketdata.records import CandleRecord, CandleSource, TradeRecord

NS = 1_000_000_000


def trade(trade_id: int, second: int, price: str, qty: str = "1", symbol: str = "XBTUSD"):
    return TradeRecord(symbol, trade_id, second * NS, Decimal(price), Decimal(qty), "buy", "ws")


def test_interval_start_floors_to_the_interval() -> None:
    assert interval_start(3599 * NS + 999, 3600) == 0
    assert interval_start(3600 * NS, 3600) == 3600


def test_candles_skip_intervals_without_trades_and_order_by_time_then_id() -> None:
    trades = [
        trade(3, 10, "101", "0.5"),
        trade(2, 10, "99"),  # same second, lower id: it came first
        trade(4, 50, "103"),
        trade(9, 200, "90", "2"),  # interval 180; 60 and 120 had no trades
    ]
    candles = candles_from_trades(trades, 60)
    assert [c.bar.start for c in candles] == [0, 180]
    first = candles[0].bar
    assert (first.open, first.high, first.low, first.close) == (
        Decimal("99"),
        Decimal("103"),
        Decimal("99"),
        Decimal("103"),
    )
    assert first.volume == Decimal("2.5")
    assert first.trades == 3
    assert candles[1].bar.trades == 1
    assert candles[1].source == "trades"


def test_candles_keep_pairs_apart() -> None:
    candles = candles_from_trades([trade(1, 5, "1"), trade(1, 5, "2", symbol="ETHUSD")], 60)
    assert [(c.bar.symbol, c.bar.close) for c in candles] == [
        ("ETHUSD", Decimal("2")),
        ("XBTUSD", Decimal("1")),
    ]


def test_accumulator_closes_an_interval_when_a_later_print_arrives() -> None:
    acc = CandleAccumulator("XBTUSD", 60)
    assert acc.add(trade(1, 1, "10")) == []
    assert acc.add(trade(2, 59, "12")) == []
    closed = acc.add(trade(3, 61, "11"))
    assert [(c.bar.start, c.bar.open, c.bar.close, c.bar.trades) for c in closed] == [
        (0, Decimal("10"), Decimal("12"), 2)
    ]
    assert acc.add(trade(4, 30, "1")) == []  # late: interval 0 is closed
    assert acc.late == 1
    current = acc.current()
    assert current is not None
    assert current.bar.start == 60
    assert [c.bar.start for c in acc.flush()] == [60]
    assert acc.current() is None
    with pytest.raises(ValueError, match="ETHUSD"):
        acc.add(trade(5, 1, "1", symbol="ETHUSD"))


def _candle(
    start: int, close: str, trades: int = 2, source: CandleSource = "kraken-ws"
) -> CandleRecord:
    one, two, three = Decimal("1"), Decimal("2"), Decimal("3")
    return CandleRecord(
        Bar("XBTUSD", start, 60, one, two, one, Decimal(close), three, trades), source
    )


def test_reconcile_reports_differences_and_one_sided_intervals() -> None:
    received = [_candle(0, "2"), _candle(60, "1.5"), _candle(120, "2")]
    built = [_candle(0, "2", source="trades"), _candle(60, "1.6", 3, "trades"), _candle(180, "1")]
    found = reconcile(received, built)
    assert [(m.start_s, m.field) for m in found] == [
        (60, "close"),
        (60, "trades"),
        (120, "missing_built"),
        (180, "missing_received"),
    ]
    assert found[0].received == Decimal("1.5")
    assert found[0].built == Decimal("1.6")
    assert reconcile(received[:1], built[:1]) == []
