"""How a NATS connection notices a stalled server: a server that stops answering but keeps
the TCP connection open (frozen, or a half-dead network path) sends no error, so only
unanswered pings reveal it.

nats-py pings every two minutes by default, which left the ingest and ``/ws/market`` clients
uninformed for minutes; every Aether connection pings every :data:`PING_INTERVAL_SECONDS` and
counts the server gone after :data:`MAX_OUTSTANDING_PINGS` unanswered (about 6 s).
"""

from __future__ import annotations

__all__ = ["MAX_OUTSTANDING_PINGS", "PING_INTERVAL_SECONDS"]

PING_INTERVAL_SECONDS = 2
MAX_OUTSTANDING_PINGS = 2
