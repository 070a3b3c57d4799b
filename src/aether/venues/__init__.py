"""Venues: where orders go.

``sim/`` is the SimBroker (paper and backtest fills), pure like the core: it imports the
standard library's pure modules and ``aether.domain`` only. ``kraken/`` is the Kraken
adapter (see its docstring for what it may import). Neither imports ``aether.marketdata``,
``aether.api``, the composition root or the emulator. Import the submodules directly.
"""
