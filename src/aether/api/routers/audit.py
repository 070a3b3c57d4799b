"""/api/v1/audit: query the audit log within the caller's grants; verify the chain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict

from aether.api.deps import PlatformAdmin, Reader, Session
from aether.api.errors import ApiError
from aether.audit import log as audit

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    ts: datetime
    actor: str
    account_id: uuid.UUID | None
    action: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    rows: int
    broken_seq: int | None = None
    reason: str | None = None


@router.get(
    "",
    summary="Audit entries, oldest first",
    description="Rows of accounts the caller holds a grant on; platform-wide rows (no account) "
    "only for platform administrators. Page with `after_seq`.",
)
async def query_audit(
    principal: Reader,
    session: Session,
    account_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    if account_id is not None:
        if principal.role_on(account_id) is None:
            raise ApiError(403, "forbidden", "no access to this account")
        accounts, include_global = frozenset({account_id}), False
    else:
        accounts, include_global = frozenset(principal.grants), principal.is_platform_admin
    entries = await audit.query(
        session,
        audit.AuditQuery(
            account_ids=accounts,
            include_global=include_global,
            action=action,
            actor=actor,
            since=since,
            until=until,
            after_seq=after_seq,
            limit=limit,
        ),
    )
    return [AuditOut.model_validate(e) for e in entries]


@router.post("/verify", summary="Walk the whole hash chain (platform administrators)")
async def verify_audit(admin: PlatformAdmin, session: Session) -> VerifyOut:
    result = await audit.verify(session)
    if result.first_break is None:
        return VerifyOut(ok=True, rows=result.rows)
    return VerifyOut(
        ok=False,
        rows=result.rows,
        broken_seq=result.first_break.seq,
        reason=result.first_break.reason,
    )
