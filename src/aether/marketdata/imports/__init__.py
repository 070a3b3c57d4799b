"""History imports into PostgreSQL: Kraken's bulk OHLCVT CSV, a trade backfill over Kraken's
REST ``Trades``, and CoinGecko reference prices.

Every import is idempotent (the store skips rows it already holds), resumable (its cursor is
saved in ``import_progress`` with the rows it covers) and ends with an :class:`ImportReport`
of rows added and gaps recorded. The sources' formats are parsed by their adapters
(``aether.venues.kraken.ohlcvt_csv``, ``aether.venues.kraken.trades_page``, the CoinGecko
client); these modules orchestrate: check the request, page, store, keep the cursor.

May import ``aether.marketdata`` (records, store, holes, candle building, pair names), the
adapters below it (``aether.venues``, ``aether.storage``) and ``aether.domain``; never
``aether.settings`` or anything above market data. Import the submodules directly.
"""
