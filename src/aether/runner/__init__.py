"""Account runners: the process that trades every active account, one engine per account.

A runner process takes accounts by lease (``aether.oms.leases``), restores each account's
engine from the database, feeds it the market events from NATS, and sends what it decides
through the order service: paper accounts to their SimBroker, live accounts to Kraken.

A service layer beside ``aether.api``: may import ``aether.oms``, ``aether.marketdata``,
the adapters, ``aether.settings`` and the core; never ``aether.api``, ``aether.cli`` or
``aether.platform``.
"""
