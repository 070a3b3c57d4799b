"""Users and their per-account grants."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit import log as audit
from aether.domain.accounts import Role
from aether.storage.tables import GrantRow, UserRow


class UserNotFoundError(LookupError):
    pass


class UserExistsError(ValueError):
    pass


async def create(
    session: AsyncSession, *, name: str, is_platform_admin: bool, actor: str
) -> UserRow:
    """Create a user (names are unique) and audit it."""
    if await find_by_name(session, name) is not None:
        raise UserExistsError(f"user {name!r} already exists")
    row = UserRow(id=uuid.uuid4(), name=name, is_platform_admin=is_platform_admin)
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="user.created",
        details={"user_id": row.id, "name": name, "is_platform_admin": is_platform_admin},
    )
    return row


async def find_by_name(session: AsyncSession, name: str) -> UserRow | None:
    row: UserRow | None = await session.scalar(select(UserRow).where(UserRow.name == name))
    return row


async def get_by_name(session: AsyncSession, name: str) -> UserRow:
    row = await find_by_name(session, name)
    if row is None:
        raise UserNotFoundError(f"no user named {name!r}")
    return row


async def grant(
    session: AsyncSession, *, user_id: uuid.UUID, account_id: uuid.UUID, role: Role, actor: str
) -> None:
    """Give ``user_id`` ``role`` on ``account_id`` (replacing any earlier role) and audit it."""
    stmt = insert(GrantRow).values(user_id=user_id, account_id=account_id, role=role.value)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[GrantRow.user_id, GrantRow.account_id], set_={"role": role.value}
        )
    )
    await audit.append(
        session,
        actor=actor,
        account_id=account_id,
        action="grant.set",
        details={"user_id": user_id, "role": role.value},
    )


async def highest_role(session: AsyncSession, user_id: uuid.UUID) -> Role | None:
    roles = (await session.scalars(select(GrantRow.role).where(GrantRow.user_id == user_id))).all()
    return max((Role(r) for r in roles), key=lambda r: r.rank, default=None)
