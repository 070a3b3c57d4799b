"""/api/v1/keys: issue (the secret is shown once), list and revoke API keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from aether.api.deps import Caller, KeyCheckedRoute, Session, platform_admin
from aether.api.errors import ApiError, error_responses
from aether.api.types import Name, Timestamp
from aether.domain.accounts import Scope
from aether.security import key_store, users
from aether.security.principal import Principal

router = APIRouter(prefix="/keys", tags=["keys"], route_class=KeyCheckedRoute)


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The full API key. Shown only in this response; store it now.")


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    scopes: Annotated[list[Scope], Field(min_length=1)] | None = Field(
        default=None, description="Defaults to the scopes of the key making the request."
    )
    expires_at: Timestamp | None = Field(
        default=None, description="ISO 8601 with a zone, or epoch seconds; in the future"
    )
    user: Name | None = Field(
        default=None, description="Issue for another user (platform administrators only)."
    )


async def _target_user(
    request: Request, request_user: str | None, principal: Principal, session: Session
) -> tuple[uuid.UUID, str]:
    """The caller, or (for platform administrators only) the named user."""
    if request_user is None or request_user == principal.user_name:
        return principal.user_id, principal.user_name
    await platform_admin(request, principal)
    user = await users.find_by_name(session, request_user)
    if user is None:
        raise ApiError(404, "not_found", f"no user named {request_user!r}")
    return user.id, user.name


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Issue an API key",
    responses=error_responses(400, 403, 404, 413, 422),
)
async def create_key(
    request: Request, body: KeyCreate, principal: Caller, session: Session
) -> KeyCreated:
    user_id, _ = await _target_user(request, body.user, principal, session)
    scopes = set(body.scopes or principal.scopes)
    if not scopes <= principal.scopes:
        extra = ", ".join(sorted(s.value for s in scopes - principal.scopes))
        raise ApiError(403, "insufficient_scope", f"cannot grant scopes this key lacks: {extra}")
    if body.expires_at is not None and body.expires_at <= datetime.now(UTC):
        raise ApiError(
            422,
            "validation_error",
            "expires_at must be in the future",
            fields=[{"field": "body.expires_at", "message": "must be in the future"}],
        )
    row, new = await key_store.issue(
        session,
        user_id=user_id,
        name=body.name,
        scopes=sorted(scopes),
        expires_at=body.expires_at,
        actor=principal.actor,
    )
    await session.commit()
    return KeyCreated(**KeyOut.model_validate(row).model_dump(), key=new.token)


@router.get(
    "",
    summary="API keys of the caller (or of a user, for platform administrators)",
    responses=error_responses(403, 404, 422),
)
async def list_keys(
    request: Request,
    principal: Caller,
    session: Session,
    user: Annotated[
        Name | None, Query(description="A user's name (platform administrators)")
    ] = None,
) -> list[KeyOut]:
    user_id, _ = await _target_user(request, user, principal, session)
    return [KeyOut.model_validate(r) for r in await key_store.list_for_user(session, user_id)]


@router.delete(
    "/{key_id}",
    summary="Revoke an API key",
    description="Refused (409) for the last valid admin-scoped key of the last platform "
    "administrator: revoking it would lock every administrator out.",
    responses=error_responses(403, 404, 409, 422),
)
async def revoke_key(
    request: Request, key_id: uuid.UUID, principal: Caller, session: Session
) -> KeyOut:
    try:
        row = await key_store.get(session, key_id)
    except key_store.KeyNotFoundError as exc:
        raise ApiError(404, "not_found", "API key not found") from exc
    if row.user_id != principal.user_id:
        if not principal.is_platform_admin:
            raise ApiError(404, "not_found", "API key not found")
        await platform_admin(request, principal)
    try:
        await key_store.revoke(session, row, actor=principal.actor)
    except key_store.LastAdminKeyError as exc:
        raise ApiError(409, "last_admin_key", str(exc)) from exc
    await session.commit()
    return KeyOut.model_validate(row)
