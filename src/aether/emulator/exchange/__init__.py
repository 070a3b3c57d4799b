"""The emulator's exchange core: Kraken spot's order model, books, matching, triggers, holds
and settlement, accounts, AddOrder validation, AmendOrder's rules and the exchange's records.

Pure and synchronous: no I/O, no clock (time is passed in), Kraken's error strings raised as
:class:`~aether.emulator.exchange.errors.ExchangeError`. :class:`.matching.Exchange` is the
entry point. May import ``aether.domain`` and the standard library only: never the REST or
WebSocket APIs, the market, the runtime or any other emulator module outside this package.
"""
