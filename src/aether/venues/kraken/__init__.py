"""Kraken spot adapter: protocol primitives (signing, nonces, errors, limits, book, symbols)."""
