"""The live market-data ingest: Kraken's WebSocket v2 into NATS and PostgreSQL.

``service`` holds :class:`MarketFeed` (the ingest service); its parts are ``config`` (its
typed settings), ``candles`` (trade-built candles reconciled with Kraken's), ``gaps`` (the
recorded gaps the ingest opens and closes), ``metrics``, ``subscriptions`` (what the ingest
follows) and ``writer`` (batched, outage-proof storage). ``aether.marketdata.assembly``
builds a feed from ``Settings``.

May import ``aether.marketdata`` (records, wire, store, freshness, candle building), the
adapters below it (``aether.venues.kraken``, ``aether.bus``, ``aether.ops``) and
``aether.domain``; never ``aether.settings`` (configs are typed) nor anything above
market data. Import the submodules directly.
"""
