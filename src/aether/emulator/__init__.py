"""Kraken-compatible exchange emulator: matching engine, accounts and market generator."""
