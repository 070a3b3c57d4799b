"""The SimBroker: the simulated venue of paper trading and backtests.

``broker`` (``SimBroker``: acceptance, balances, fees by simulated 30-day volume, latency),
``fills`` (the bar model: when and at what price a working order fills on a bar) and ``book``
(the order-book and printed-trade model).

Pure like the core: it may import the standard library's pure modules and ``aether.domain``
only (no I/O, no clock, no adapter), so paper and backtest fills are deterministic.
"""
