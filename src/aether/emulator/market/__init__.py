"""The emulator's market: what moves the exchange and what its prints add up to.

:mod:`.generator` (the interface and types both generators share), :mod:`.replay` (OHLCV bars
replayed as trades), :mod:`.synthetic` (a seeded regime-switching market), :mod:`.correlated`
(a synthetic pair whose returns follow another generator's with a set correlation),
:mod:`.maker_book` (the market maker's book around the price), :mod:`.maker` (drives the
exchange: the maker's ladder and the generator's trades printed against it) and
:mod:`.candles` (OHLC candles from the exchange's public trades).

Drives the core: may import :mod:`aether.emulator.exchange`, :mod:`aether.emulator.kraken_format`
and ``aether.domain``; never the runtime, the REST or WebSocket APIs or the server.
"""
