"""Venues: where orders go. The simulated broker here; the Kraken adapter later."""
