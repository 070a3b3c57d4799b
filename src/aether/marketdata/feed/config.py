"""What the ingest service is told: a frozen, typed :class:`MarketFeedConfig`.

Only the fields :class:`~aether.marketdata.feed.service.MarketFeed` reads itself; the parts
it is given (stream, writer, bus) carry their own settings. ``aether.marketdata.assembly``
builds it from the platform's ``Settings``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Trade-built candles (and the ohlc channel) use one-minute intervals.
CANDLE_MINUTES = 1


@dataclass(frozen=True, slots=True)
class MarketFeedConfig:
    """``stale_seconds``: a followed pair without data this long is announced stale.
    ``stream_max_age_seconds``/``stream_max_bytes``: the JetStream market stream's limits,
    ensured on every bus (re)connect. ``resync_seconds``: how often the subscriptions table
    is re-read. ``retry_seconds``: the wait before re-reading it after a failure."""

    stale_seconds: float
    stream_max_age_seconds: int
    stream_max_bytes: int
    resync_seconds: float = 30.0
    retry_seconds: float = 0.5
