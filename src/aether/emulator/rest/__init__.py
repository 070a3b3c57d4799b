"""Kraken's REST API on the emulator: request signing (:mod:`.auth`), the envelope and
parameters (:mod:`.protocol`), the public market-data methods (:mod:`.public`), the private
trading methods (:mod:`.private`) and account reads (:mod:`.account`), and how orders and
trades read in answers (:mod:`.orders`).

Handlers answer from the runtime. May import :mod:`aether.emulator.runtime`, the exchange
core, the market's candles, :mod:`aether.emulator.kraken_format`,
:mod:`aether.emulator.rate_limits`, :mod:`aether.emulator.faults` and ``aether.domain``;
never the WebSocket API, the admin routes or the server (:mod:`aether.emulator.app`).
"""
