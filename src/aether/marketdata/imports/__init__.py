"""History imports into PostgreSQL: Kraken's bulk OHLCVT CSV, a trade backfill over Kraken's
REST ``Trades``, and CoinGecko reference prices.

Every import is idempotent (the store skips rows it already holds), resumable (its cursor is
saved in ``import_progress`` with the rows it covers) and ends with an :class:`ImportReport`
of rows added and gaps found. Import the submodules directly.
"""
