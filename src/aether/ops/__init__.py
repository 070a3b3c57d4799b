"""Operations: health and readiness, metrics, logging, the local stack of embedded servers,
the servers' endpoints, retry pacing and stopping background tasks.

An adapter layer: may import ``aether.settings``, ``aether.storage`` and the other adapters
below the API; never ``aether.api``, ``aether.cli`` or ``aether.platform`` (the process
wiring that uses these parts lives in ``aether.platform``).
"""
