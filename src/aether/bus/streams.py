"""The JetStream streams the platform publishes into, created or brought up to date.

Market data is one stream per venue (``MD_KRAKEN`` captures ``md.kraken.>``) with limits
retention: messages older than the maximum age or beyond the maximum size are discarded,
oldest first, so a stream can never fill the server's disk.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import NotFoundError

from aether.bus.subjects import market_wildcard

MARKET_STREAM = "MD_KRAKEN"


def market_stream_config(max_age_seconds: float, max_bytes: int) -> StreamConfig:
    """The market-data stream's configuration for these retention limits."""
    return StreamConfig(
        name=MARKET_STREAM,
        description="Kraken market data as published by the ingest",
        subjects=[market_wildcard("kraken")],
        retention=RetentionPolicy.LIMITS,
        max_age=float(max_age_seconds),
        max_bytes=max_bytes,
        discard=DiscardPolicy.OLD,
        storage=StorageType.FILE,
    )


async def ensure_market_stream(
    js: JetStreamContext, *, max_age_seconds: float, max_bytes: int
) -> StreamInfo:
    """Create the market-data stream, or update it when its limits or subjects differ;
    idempotent. Errors from the server propagate (the caller reports not-ready)."""
    wanted = market_stream_config(max_age_seconds, max_bytes)
    try:
        info = await js.stream_info(MARKET_STREAM)
    except NotFoundError:
        return await js.add_stream(wanted)
    have = info.config
    same = (
        have.subjects == wanted.subjects
        and have.max_bytes == wanted.max_bytes
        and have.max_age is not None
        and abs(have.max_age - float(max_age_seconds)) < 1e-6
        and have.discard == wanted.discard
        and have.retention == wanted.retention
    )
    if same:
        return info
    # Storage cannot change on a live stream; keep whatever the stream was created with.
    wanted.storage = have.storage
    return await js.update_stream(wanted)
