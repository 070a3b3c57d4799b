"""Where the platform's servers are: one URL each for PostgreSQL, NATS and Redis."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CREDENTIALS = re.compile(r"//[^@/]*@")


def _mask(url: str) -> str:
    return _CREDENTIALS.sub("//***@", url)


@dataclass(frozen=True, slots=True)
class ServerUrls:
    """Connection URLs with credentials; ``repr`` masks them so they never reach a log."""

    database_url: str
    nats_url: str
    redis_url: str

    def __repr__(self) -> str:
        return (
            f"ServerUrls(database_url={_mask(self.database_url)!r}, "
            f"nats_url={_mask(self.nats_url)!r}, redis_url={_mask(self.redis_url)!r})"
        )

    __str__ = __repr__
