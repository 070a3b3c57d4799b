"""Every table mapping of the platform in one metadata: what migrations are checked against.

The mappings live in modules by area (``tables``, ``order_tables``, ``lease_tables``,
``balance_tables``, ``mode_tables``);
importing this module registers them all with ``Base.metadata``.
"""

from __future__ import annotations

from aether.storage import balance_tables, lease_tables, mode_tables, order_tables
from aether.storage.tables import Base

__all__ = ["Base", "balance_tables", "lease_tables", "mode_tables", "order_tables"]
