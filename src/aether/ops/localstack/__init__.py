"""Real PostgreSQL, NATS JetStream and Redis (Valkey) servers from pip-installed binaries.

``LocalStack(data_dir).start()`` runs all three on 127.0.0.1 with generated credentials;
``urls()`` says how to reach them, ``stop()`` ends them. No Docker involved.
"""

from aether.ops.endpoints import ServerUrls
from aether.ops.localstack.errors import ServerStartError, StackStateError
from aether.ops.localstack.postgres import PostgresServer
from aether.ops.localstack.servers import EmbeddedServer, NatsServer, RedisServer
from aether.ops.localstack.stack import SERVER_NAMES, LocalStack, ServerStatus

__all__ = [
    "SERVER_NAMES",
    "EmbeddedServer",
    "LocalStack",
    "NatsServer",
    "PostgresServer",
    "RedisServer",
    "ServerStartError",
    "ServerStatus",
    "ServerUrls",
    "StackStateError",
]
