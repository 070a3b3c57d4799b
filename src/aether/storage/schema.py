"""Every table mapping of the platform in one metadata: what migrations are checked against.

The mappings live in modules by area (``tables``, ``order_tables``, ``lease_tables``);
importing this module registers them all with ``Base.metadata``.
"""

from __future__ import annotations

from aether.storage import lease_tables, order_tables
from aether.storage.tables import Base

__all__ = ["Base", "lease_tables", "order_tables"]
