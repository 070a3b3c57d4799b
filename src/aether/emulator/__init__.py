"""Kraken-compatible exchange emulator: a protocol-faithful Kraken spot server (REST and
WebSocket v2) over a matching engine, with a market that moves it. Used by tests,
benchmarks and the local demo; only the CLI starts it, and no production module imports it.

Parts, each importing only those below it (and ``aether.domain``, the only part of Aether the
emulator may use):

* :mod:`.app` (the ASGI server: routes and lifespan)
* :mod:`.admin` (the emulator's own ``/emulator`` routes), :mod:`.rest` (Kraken's REST API),
  :mod:`.ws` (Kraken's WebSocket v2): independent of one another
* :mod:`.runtime` (the running emulator: exchange, market, wall clock, what the APIs remember
  between calls)
* :mod:`.market` (what moves the exchange: generators, the market maker, candles)
* :mod:`.exchange` (the exchange core: pure, no clock, no I/O)

Beside them, shared by the parts above the exchange: :mod:`.kraken_format` (Kraken's names,
number formats and pair catalogue), :mod:`.rate_limits` (Kraken's rate limits) and
:mod:`.faults` (faults injected into a running emulator).
"""
