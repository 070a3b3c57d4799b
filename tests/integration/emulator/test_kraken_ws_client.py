"""Aether's WebSocket v2 market stream against the emulator: verified books, trades, and
recovery from a dropped connection, a corrupted checksum and a stalled feed."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from aether.domain.bars import Bar
from aether.domain.events import BookSnapshot, Quote, Tick
from aether.venues.kraken.ws import KrakenMarketStream, StreamEvent
from aether.venues.kraken.ws_receive import StreamGap, StreamRecovered, StreamStale
from tests.integration.emulator.conftest import Emulator


async def collect(
    stream: KrakenMarketStream,
    seconds: float,
    during: Any = None,
) -> list[StreamEvent]:
    """Events for ``seconds``; ``during(stream, events)`` runs once after the first book."""
    events: list[StreamEvent] = []
    acted = False

    async def reader() -> None:
        nonlocal acted
        async for event in stream.events():
            events.append(event)
            if during is not None and not acted and isinstance(event, BookSnapshot):
                acted = True
                await during(stream, events)

    task = asyncio.create_task(reader())
    await asyncio.sleep(seconds)
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=10)
    assert done, "the stream did not stop when cancelled"
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await stream.close()
    return events


def test_books_verify_and_trades_arrive(synthetic: Emulator) -> None:
    stream = KrakenMarketStream(synthetic.ws_url, ["BTC/USD"], depth=10)
    events = asyncio.run(collect(stream, 3.0))
    books = [e for e in events if isinstance(e, BookSnapshot)]
    ticks = [e for e in events if isinstance(e, Tick)]
    assert len(books) > 5
    assert not [g for g in stream.gaps if g.reason == "checksum mismatch"]
    top = books[-1]
    assert top.bids[0].price < top.asks[0].price
    assert ticks
    assert all(t.symbol == "BTC/USD" for t in ticks)


def test_a_dropped_connection_reconnects_resubscribes_and_records_the_gap(
    synthetic: Emulator,
) -> None:
    async def drop(stream: KrakenMarketStream, events: list[StreamEvent]) -> None:
        await stream.close()

    stream = KrakenMarketStream(synthetic.ws_url, ["BTC/USD"], reconnect_delay=0.1)
    events = asyncio.run(collect(stream, 3.0, drop))
    assert stream.connections >= 2
    lost = [e for e in events if isinstance(e, StreamGap) and e.reason == "connection lost"]
    assert lost
    after = events[events.index(lost[0]) :]
    assert any(isinstance(e, BookSnapshot) for e in after)  # rebuilt from a fresh snapshot
    assert not [g for g in stream.gaps if g.reason == "checksum mismatch"]


def test_a_corrupted_checksum_is_a_gap_and_the_book_is_rebuilt(synthetic: Emulator) -> None:
    async def corrupt(stream: KrakenMarketStream, events: list[StreamEvent]) -> None:
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{synthetic.url}/emulator/faults", json={"book_checksum_corrupt": 1}
            )
            assert answer.status_code == 200, answer.text

    stream = KrakenMarketStream(synthetic.ws_url, ["BTC/USD"])
    events = asyncio.run(collect(stream, 4.0, corrupt))
    mismatches = [e for e in events if isinstance(e, StreamGap) and e.reason == "checksum mismatch"]
    assert len(mismatches) == 1
    after = events[events.index(mismatches[0]) :]
    assert any(isinstance(e, BookSnapshot) for e in after)
    assert stream.connections == 1  # resubscribed on the same connection


def test_a_stalled_feed_is_reported_stale_then_recovered(synthetic: Emulator) -> None:
    async def stall(stream: KrakenMarketStream, events: list[StreamEvent]) -> None:
        async with httpx.AsyncClient() as http:
            answer = await http.post(f"{synthetic.url}/emulator/faults", json={"stall_s": 2})
            assert answer.status_code == 200, answer.text

    stream = KrakenMarketStream(synthetic.ws_url, ["BTC/USD"], stale_after=0.8)
    events = asyncio.run(collect(stream, 4.5, stall))
    stale = [e for e in events if isinstance(e, StreamStale)]
    assert stale
    assert any(isinstance(e, StreamRecovered) for e in events[events.index(stale[0]) :])


def test_the_emulator_killing_the_socket_is_survived_with_a_rebuilt_book(
    synthetic: Emulator,
) -> None:
    async def kill(stream: KrakenMarketStream, events: list[StreamEvent]) -> None:
        async with httpx.AsyncClient() as http:
            answer = await http.post(f"{synthetic.url}/emulator/faults", json={"ws_drop": True})
            assert answer.status_code == 200, answer.text

    stream = KrakenMarketStream(synthetic.ws_url, ["BTC/USD"], reconnect_delay=0.1)
    events = asyncio.run(collect(stream, 3.5, kill))
    assert stream.connections >= 2
    lost = [e for e in events if isinstance(e, StreamGap) and e.reason == "connection lost"]
    assert {g.channel for g in lost} == {"book", "trade"}
    rebuilt = [e for e in events[events.index(lost[0]) :] if isinstance(e, BookSnapshot)]
    assert rebuilt  # every book message after the reconnect passed its checksum
    assert not [g for g in stream.gaps if g.reason == "checksum mismatch"]


def test_ticker_quotes_and_ohlc_bars_are_normalised(synthetic: Emulator) -> None:
    stream = KrakenMarketStream(
        synthetic.ws_url, ["BTC/USD"], trades=False, ticker=True, ohlc_minutes=1
    )
    events = asyncio.run(collect(stream, 3.0))
    quotes = [e for e in events if isinstance(e, Quote)]
    bars = [e for e in events if isinstance(e, Bar)]
    assert quotes
    assert all(q.bid < q.ask for q in quotes)
    assert bars
    assert all(b.interval == 60 and b.low <= b.close <= b.high for b in bars)
    assert all(b.start % 60 == 0 for b in bars)
