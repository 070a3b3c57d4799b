"""Value types and events shared by every mode: instruments and money, orders and their
state machine, fills, balances and positions, bars, market and venue events, the ``Venue``
protocol, accounts' kinds and states, and the exact-decimal JSON codec.

Pure core, the bottom layer: it may import only the standard library's pure modules (the
allowlist in pyproject.toml); no I/O, no wall clock, nothing else of Aether.
"""
