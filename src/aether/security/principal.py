"""Who is calling: the authenticated user, the key's scopes and the user's account grants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from aether.domain.accounts import Role, Scope


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    user_name: str
    is_platform_admin: bool
    key_id: uuid.UUID
    scopes: frozenset[Scope]
    grants: dict[uuid.UUID, Role] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        """How this principal is named in the audit log."""
        return f"user:{self.user_name}"

    def role_on(self, account_id: uuid.UUID) -> Role | None:
        return self.grants.get(account_id)
