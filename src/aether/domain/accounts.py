"""Account, user and access vocabulary: the closed sets every layer agrees on."""

from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    COMPANY = "company"
    DIRECTOR = "director"
    OTHER = "other"


class AccountMode(StrEnum):
    """Paper accounts get simulated fills; only live accounts reach the venue."""

    PAPER = "paper"
    LIVE = "live"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class TradingState(StrEnum):
    """ACTIVE trades freely, REDUCING accepts only risk-reducing orders, HALTED accepts none."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class Role(StrEnum):
    """Per-account roles, ordered: each includes the rights of the ones before it."""

    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def includes(self, other: Role) -> bool:
        """True when this role grants at least what ``other`` grants."""
        return self.rank >= other.rank


_ROLE_RANK = {Role.VIEWER: 0, Role.TRADER: 1, Role.ADMIN: 2}


class Scope(StrEnum):
    """What an API key may be used for, independent of the user's per-account role."""

    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"


BASE_CURRENCY = "USD"
