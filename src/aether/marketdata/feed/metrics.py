"""The ingest's Prometheus metrics, registered on the registry the caller gives."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class FeedMetrics:
    """Freshness gauges and the ingest's counters (symbols are altnames)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.data_age = Gauge(
            "aether_market_data_age_seconds",
            "Seconds since the pair's last market data (checked about once a second)",
            ["symbol"],
            registry=registry,
        )
        self.ingest_lag = Gauge(
            "aether_market_ingest_lag_seconds",
            "Receive time minus exchange time of the pair's last trade or book update",
            ["symbol"],
            registry=registry,
        )
        self.stale = Gauge(
            "aether_market_data_stale",
            "1 while the pair is marked stale, else 0",
            ["symbol"],
            registry=registry,
        )
        self.messages = Counter(
            "aether_market_messages",
            "Normalised market events received, by kind",
            ["kind"],
            registry=registry,
        )
        self.published = Counter(
            "aether_market_published",
            "Market events published on the bus",
            registry=registry,
        )
        self.unpublished = Counter(
            "aether_market_unpublished",
            "Market events not published because the bus was unreachable",
            registry=registry,
        )
        self.gaps = Counter(
            "aether_market_gaps",
            "Gaps recorded, by reason",
            ["reason"],
            registry=registry,
        )
        self.checksum_failures = Counter(
            "aether_market_checksum_failures",
            "Book checksum mismatches (each resubscribes the pair's book)",
            registry=registry,
        )
        self.candle_mismatches = Counter(
            "aether_market_candle_mismatches",
            "Fields where a received candle and the candle built from trades disagree",
            ["field"],
            registry=registry,
        )
        self.dropped_rows = Counter(
            "aether_market_dropped_rows",
            "Rows dropped from the full ingest buffer while the database was unreachable",
            ["table"],
            registry=registry,
        )
        self.written_rows = Counter(
            "aether_market_written_rows",
            "Rows added to the database by the ingest",
            ["table"],
            registry=registry,
        )
        self.buffered_rows = Gauge(
            "aether_market_buffered_rows",
            "Rows waiting to be written to the database",
            registry=registry,
        )
