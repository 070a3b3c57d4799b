"""Market data adapters: Kraken history files, shipped data, the instrument snapshot.

Adapter layer: may import ``aether.domain``; the pure core never imports this package.
Import the submodules directly (``aether.marketdata.history``, ``.shipped``, ``.snapshot``).
"""
