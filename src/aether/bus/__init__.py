"""NATS JetStream: subject names, the market-data stream, the one connection helper, the
publisher, liveness pings and the barrier that proves the server has what was sent.

An adapter: it may import ``aether.ops`` (retry policy, logging), ``aether.settings`` and the
core; never the services, the API or the composition root.
"""
