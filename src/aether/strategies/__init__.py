"""Baseline rule strategies (SMA cross, breakout) and their catalogue as the CLI names them.

Pure core: it may import ``aether.engine`` (the strategy API), ``aether.risk``,
``aether.domain`` and the standard library's pure modules only.
"""
