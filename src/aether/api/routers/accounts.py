"""/api/v1/accounts: list, read, create and reconfigure accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aether.accounts import service as accounts
from aether.accounts.config import (
    AccountConfig,
    AccountConfigPatch,
    StoredConfigError,
    stored_config,
)
from aether.api.deps import (
    AdministeredAccount,
    Caller,
    KeyCheckedRoute,
    PlatformAdmin,
    Session,
    ViewableAccount,
)
from aether.api.errors import ApiError, error_responses
from aether.api.types import Name
from aether.domain.accounts import AccountKind, Role
from aether.security import users
from aether.storage.tables import AccountRow

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=KeyCheckedRoute)


class AccountOut(BaseModel):
    id: uuid.UUID
    name: str
    kind: AccountKind
    mode: str
    base_currency: str
    status: str
    config: AccountConfig
    created_at: datetime
    updated_at: datetime
    role: Role | None = Field(description="The caller's role on this account")

    @classmethod
    def of(cls, row: AccountRow, role: Role | None) -> AccountOut:
        return cls(
            id=row.id,
            name=row.name,
            kind=AccountKind(row.kind),
            mode=row.mode,
            base_currency=row.base_currency,
            status=row.status,
            config=_config_of(row),
            created_at=row.created_at,
            updated_at=row.updated_at,
            role=role,
        )


def _config_of(row: AccountRow) -> AccountConfig:
    try:
        return stored_config(row.config)
    except StoredConfigError as exc:
        raise ApiError(409, "unsupported_configuration", f"account {row.name}: {exc}") from exc


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[Name, Field(pattern=r"^[\w .@+-]+$")]
    kind: AccountKind = AccountKind.OTHER
    config: AccountConfig | None = None


@router.get("", summary="Accounts the caller has a grant on", responses=error_responses(409))
async def list_accounts(principal: Caller, session: Session) -> list[AccountOut]:
    rows = await accounts.list_accounts(session, principal.grants.keys())
    return [AccountOut.of(r, principal.role_on(r.id)) for r in rows]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account (paper mode)",
    responses=error_responses(400, 403, 409, 413, 422),
)
async def create_account(body: AccountCreate, admin: PlatformAdmin, session: Session) -> AccountOut:
    try:
        row = await accounts.create(
            session, name=body.name, kind=body.kind, config=body.config, actor=admin.actor
        )
    except accounts.AccountExistsError as exc:
        raise ApiError(409, "account_exists", str(exc)) from exc
    await users.grant(
        session, user_id=admin.user_id, account_id=row.id, role=Role.ADMIN, actor=admin.actor
    )
    await session.commit()
    return AccountOut.of(row, Role.ADMIN)


@router.get("/{account_id}", summary="One account", responses=error_responses(403, 404, 409, 422))
async def get_account(account: ViewableAccount, principal: Caller) -> AccountOut:
    return AccountOut.of(account, principal.role_on(account.id))


@router.patch(
    "/{account_id}/config",
    summary="Change trading, risk or strategy configuration",
    responses=error_responses(400, 403, 404, 409, 413, 422),
)
async def update_config(
    account: AdministeredAccount, body: AccountConfigPatch, principal: Caller, session: Session
) -> AccountOut:
    try:
        await accounts.update_config(session, account, body, actor=principal.actor)
    except StoredConfigError as exc:
        message = f"account {account.name}: {exc}"
        raise ApiError(409, "unsupported_configuration", message) from exc
    except ValidationError as exc:
        fields = [
            {"field": "body." + ".".join(str(p) for p in e["loc"]), "message": e["msg"]}
            for e in exc.errors()
        ]
        raise ApiError(
            422, "validation_error", "the resulting configuration is invalid", fields=fields
        ) from exc
    await session.commit()
    return AccountOut.of(account, principal.role_on(account.id))
