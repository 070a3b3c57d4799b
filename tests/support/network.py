"""Loopback ports for servers tests start."""

from __future__ import annotations

from aether.ops.localstack.processes import free_ports


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    return free_ports(1)[0]
