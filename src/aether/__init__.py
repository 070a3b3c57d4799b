"""Aether: an autonomous trading platform for Kraken spot USD pairs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aether")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
