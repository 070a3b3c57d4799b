"""Real PostgreSQL, NATS JetStream and Redis (Valkey) servers from pip-installed binaries."""

from aether.ops.endpoints import ServerUrls
from aether.ops.localstack.errors import ServerStartError
from aether.ops.localstack.servers import EmbeddedServer
from aether.ops.localstack.stack import SERVER_NAMES, LocalStack, ServerStatus

__all__ = [
    "SERVER_NAMES",
    "EmbeddedServer",
    "LocalStack",
    "ServerStartError",
    "ServerStatus",
    "ServerUrls",
]
