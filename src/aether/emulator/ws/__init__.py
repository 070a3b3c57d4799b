"""Kraken's WebSocket v2 on the emulator: the ``/v2`` endpoint and its connections
(:mod:`.server`), the shared message format (:mod:`.protocol`), the public channels
(:mod:`.public`, with the ``book`` channel's levels and checksum in :mod:`.book`), the
private channels (:mod:`.private`) and the trading methods (:mod:`.trading`).

May import :mod:`aether.emulator.runtime`, the exchange core, the market's candles,
:mod:`aether.emulator.kraken_format`, :mod:`aether.emulator.faults` and ``aether.domain``;
never the REST API, the admin routes or the server (:mod:`aether.emulator.app`).
"""
