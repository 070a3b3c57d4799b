"""A stale status as the ingest publishes it reaches the engine as the event it acts on."""

from __future__ import annotations

from aether.domain.events import MarketDataFresh, MarketDataStale
from aether.domain.orders import Side
from aether.marketdata import wire
from tests.unit.domain.conftest import make_instrument
from tests.unit.engine.scripted import HOUR, Scripted, bar, engine_for, fixed

NS = 1_000_000_000


def test_a_stale_status_off_the_bus_blocks_entries_until_fresh() -> None:
    def long_(ctx, b):  # type: ignore[no-untyped-def]
        return ctx.target_long("XBTUSD")

    engine, venue = engine_for(make_instrument(), Scripted({1: long_, 3: long_}), fixed("0.5"))
    engine.run([bar(0, "100", "100", "100", "100")], market=venue)

    stale = wire.decode(wire.encode_status(MarketDataStale("XBTUSD", 0, HOUR * NS), "no data"))
    assert isinstance(stale.event, MarketDataStale)
    engine.run([stale.event, bar(1, "100", "100", "100", "100")], market=venue)
    assert [f.rule for r in engine.ledger.refusals for f in r.failures] == ["stale_market_data"]

    fresh = wire.decode(wire.encode_status(MarketDataFresh("XBTUSD", 2 * HOUR * NS)))
    assert isinstance(fresh.event, MarketDataFresh)
    flat = [bar(h, "100", "100", "100", "100") for h in (2, 3, 4)]
    engine.run([fresh.event, *flat], market=venue)
    assert [f.side for f in engine.ledger.fills] == [Side.BUY]
