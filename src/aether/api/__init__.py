"""The HTTP and WebSocket API: the app factory, one router per area, authentication and
account-scope dependencies, validated input types, the error shape and ``WS /ws/market``.

Below the composition root: it may import the services (``aether.marketdata``), the adapters
(``aether.storage``, ``aether.bus``, ``aether.security``, ``aether.audit``,
``aether.accounts``, ``aether.ops``), ``aether.settings`` and the core; never ``aether.cli``,
``aether.platform`` or ``aether.emulator``.
"""
