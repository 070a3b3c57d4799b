"""The order service: orders persisted with an outbox row before they are sent, sent through
an account's venue, their events and fills persisted and published.

Layer: a service (above ``aether.marketdata``). It may import the adapters (``storage``,
``bus``, ``venues``, ``accounts``, ``audit``, ``ops``), ``aether.settings`` and the pure
core; never ``aether.api``, ``aether.cli``, ``aether.platform`` or ``aether.emulator``.
"""
