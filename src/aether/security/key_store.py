"""API keys in the database: issue, authenticate, list and revoke.

Revoking refuses to remove the last usable admin-scoped key of the platform's active
administrators (:class:`LastAdminKeyError`): that would leave nobody able to administer the
platform (issue keys, create accounts) through the API. Issue another admin key first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from aether.audit import log as audit
from aether.domain.accounts import Role, Scope
from aether.security import api_keys
from aether.security.principal import Principal
from aether.storage.tables import ApiKeyRow, GrantRow, UserRow

# Recording every use would turn each read request into a write; a minute is precise enough.
_LAST_USED_RESOLUTION = timedelta(seconds=60)


class AuthenticationError(Exception):
    """The key is missing, malformed, unknown, revoked or expired (always reported as 401)."""


class KeyNotFoundError(LookupError):
    pass


class LastAdminKeyError(Exception):
    """Revoking this key would leave no platform administrator a usable admin key."""


async def issue(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    name: str,
    scopes: Sequence[Scope],
    expires_at: datetime | None,
    actor: str,
) -> tuple[ApiKeyRow, api_keys.NewApiKey]:
    """Create a key for ``user_id`` and audit it; the caller shows ``NewApiKey.token`` once."""
    new = api_keys.generate()
    row = ApiKeyRow(
        id=uuid.uuid4(),
        user_id=user_id,
        name=name,
        prefix=new.prefix,
        secret_hash=api_keys.hash_secret(new.secret),
        scopes=sorted({Scope(s).value for s in scopes}),
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        action="api_key.created",
        details={
            "key_id": row.id,
            "user_id": user_id,
            "prefix": new.prefix,
            "scopes": row.scopes,
            "expires_at": expires_at,
        },
    )
    return row, new


async def authenticate(session: AsyncSession, token: str, *, now: datetime) -> Principal:
    """Resolve a presented key to a :class:`Principal` or raise AuthenticationError."""
    try:
        prefix, secret = api_keys.parse(token)
    except api_keys.InvalidApiKeyError as exc:
        raise AuthenticationError("malformed API key") from exc
    found = (
        await session.execute(
            select(ApiKeyRow, UserRow)
            .join(UserRow, UserRow.id == ApiKeyRow.user_id)
            .where(ApiKeyRow.prefix == prefix)
        )
    ).first()
    if found is None:
        api_keys.verify_secret(api_keys.dummy_hash(), secret)
        raise AuthenticationError("unknown API key")
    key, user = found
    if not api_keys.verify_secret(key.secret_hash, secret):
        raise AuthenticationError("invalid API key")
    if key.revoked_at is not None:
        raise AuthenticationError("API key revoked")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthenticationError("API key expired")
    if user.status != "active":
        raise AuthenticationError("user disabled")
    if key.last_used_at is None or now - key.last_used_at >= _LAST_USED_RESOLUTION:
        await session.execute(
            update(ApiKeyRow).where(ApiKeyRow.id == key.id).values(last_used_at=now)
        )
    grants = (
        await session.execute(
            select(GrantRow.account_id, GrantRow.role).where(GrantRow.user_id == user.id)
        )
    ).all()
    return Principal(
        user_id=user.id,
        user_name=user.name,
        is_platform_admin=user.is_platform_admin,
        key_id=key.id,
        scopes=frozenset(Scope(s) for s in key.scopes),
        grants={g.account_id: Role(g.role) for g in grants},
    )


async def list_for_user(session: AsyncSession, user_id: uuid.UUID) -> list[ApiKeyRow]:
    stmt = select(ApiKeyRow).where(ApiKeyRow.user_id == user_id).order_by(ApiKeyRow.created_at)
    return list((await session.scalars(stmt)).all())


async def get(session: AsyncSession, key_id: uuid.UUID) -> ApiKeyRow:
    row = await session.get(ApiKeyRow, key_id)
    if row is None:
        raise KeyNotFoundError(str(key_id))
    return row


async def revoke(
    session: AsyncSession, key: ApiKeyRow, *, actor: str, now: datetime | None = None
) -> ApiKeyRow:
    """Revoke ``key`` (idempotent: revoking twice keeps the first time) and audit it.

    Raises LastAdminKeyError for the last usable admin key of the active platform
    administrators (see the module doc).
    """
    if key.revoked_at is None:
        now = now or datetime.now(UTC)
        is_admin_key = Scope.ADMIN.value in key.scopes
        if is_admin_key and await _usable_admin_keys(session, now) == {key.id}:
            raise LastAdminKeyError(
                "this is the last valid admin key of any platform administrator; revoking it "
                "would lock every administrator out: issue another admin key first"
            )
        key.revoked_at = now
        await session.flush()
        await audit.append(
            session,
            actor=actor,
            action="api_key.revoked",
            details={"key_id": key.id, "user_id": key.user_id, "prefix": key.prefix},
        )
    return key


async def _usable_admin_keys(session: AsyncSession, now: datetime) -> set[uuid.UUID]:
    """Ids of admin-scoped, unrevoked, unexpired keys of active platform administrators.

    The rows are locked until the transaction ends, so two revocations racing for the last
    two keys cannot both pass: the second sees the first's revocation once it commits.
    """
    rows = await session.scalars(
        select(ApiKeyRow.id)
        .join(UserRow, UserRow.id == ApiKeyRow.user_id)
        .where(
            UserRow.is_platform_admin.is_(True),
            UserRow.status == "active",
            ApiKeyRow.revoked_at.is_(None),
            or_(ApiKeyRow.expires_at.is_(None), ApiKeyRow.expires_at > now),
            ApiKeyRow.scopes.contains([Scope.ADMIN.value]),
        )
        .with_for_update(of=ApiKeyRow)
    )
    return set(rows.all())


def scopes_for_role(role: Role) -> list[Scope]:
    """Default key scopes for a user whose highest role is ``role``."""
    return {
        Role.VIEWER: [Scope.READ],
        Role.TRADER: [Scope.READ, Scope.TRADE],
        Role.ADMIN: [Scope.READ, Scope.TRADE, Scope.ADMIN],
    }[role]
