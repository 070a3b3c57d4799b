"""Accounts: their lifecycle, per-account configuration and mode (paper/live), and the
mapping of an account's risk limits onto the engine's.

An adapter: it may import the core (``aether.domain``, ``aether.risk``), ``aether.settings``
and the other adapters it works with (``aether.storage``, ``aether.audit``,
``aether.security``); never ``aether.api``, ``aether.cli`` or the composition root.
"""
