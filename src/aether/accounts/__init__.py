"""Accounts: their lifecycle, per-account configuration (trading state, risk limits, the
strategy it trades) and mode (paper/live), and the mapping of an account's risk limits onto
the engine's.

An adapter: it may import the core (``aether.domain``, ``aether.risk``, ``aether.strategies``
for the strategy catalogue), ``aether.settings`` and the other adapters it works with
(``aether.storage``, ``aether.audit``, ``aether.security``, and ``aether.venues.kraken`` for
pair names and the shipped instrument snapshot); never ``aether.marketdata``, ``aether.api``,
``aether.cli`` or the composition root.
"""
