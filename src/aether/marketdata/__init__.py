"""Market data: the instrument registry, the live ingest, stored history and its imports.

Holds the registry of tradable instruments (``registry``, from Kraken's AssetPairs), the
pair names people type (``pair_names``), the live ingest (``feed/``) with its wire format
(``wire``), candle building (``candle_builder``) and freshness (``freshness``), the rows
on their way to and from storage (``records``, ``store``), stored history for readers
(``history_query``, ``history_request``, ``history_cursor``), series operations on bars
(``bar_series``, ``history_holes``: holes found in a series, as opposed to the *recorded
gaps* of ``market_gaps``), history imports (``imports/``), the shipped history slices
(``shipped``) and the subscriptions the API manages (``subscriptions``).
``assembly`` is the one module that reads ``Settings``: it builds the components from it
for the composition root; every component takes a typed config instead.

May import the adapters below it (``aether.venues``, ``aether.storage``, ``aether.bus``,
``aether.ops``), ``aether.settings`` (in ``assembly`` only) and the core
(``aether.domain``); never ``aether.api``, the composition root, or the emulator. Kraken's
own formats (AssetPairs, the instrument snapshot, the OHLCVT CSV, REST Trades pages) live
in ``aether.venues.kraken``. Import the submodules directly.
"""
