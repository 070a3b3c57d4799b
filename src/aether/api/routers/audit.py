"""/api/v1/audit: query the audit log within the caller's grants; verify the chain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from aether.api.deps import KeyCheckedRoute, PlatformAdmin, Reader, Session, app_state
from aether.api.errors import ApiError, error_responses
from aether.api.types import FilterText, NonNegativeBigint, Timestamp
from aether.audit import checkpoints
from aether.audit import log as audit
from aether.audit.keys import session_key

router = APIRouter(
    prefix="/audit", tags=["audit"], responses=error_responses(403), route_class=KeyCheckedRoute
)


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
    responses=error_responses(422),
)
async def query_audit(
    principal: Reader,
    session: Session,
    account_id: uuid.UUID | None = None,
    action: Annotated[
        FilterText | None, Query(description="Exact action, e.g. api_key.created")
    ] = None,
    actor: Annotated[FilterText | None, Query(description="Exact actor, e.g. user:root")] = None,
    since: Annotated[
        Timestamp | None, Query(description="Inclusive: ISO 8601 with a zone, or epoch seconds")
    ] = None,
    until: Annotated[
        Timestamp | None, Query(description="Exclusive: ISO 8601 with a zone, or epoch seconds")
    ] = None,
    after_seq: Annotated[NonNegativeBigint, Query(description="Rows after this seq")] = 0,
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
async def verify_audit(admin: PlatformAdmin, session: Session, request: Request) -> VerifyOut:
    path = app_state(request).settings.audit_checkpoint_file
    try:
        anchors = checkpoints.read_log(path, session_key(session))
        result = await audit.verify(session, checkpoints=anchors)
    except (audit.AuditTableMissingError, checkpoints.CheckpointLogError) as exc:
        return VerifyOut(ok=False, rows=0, reason=str(exc))
    if result.first_break is None:
        return VerifyOut(ok=True, rows=result.rows)
    return VerifyOut(
        ok=False,
        rows=result.rows,
        broken_seq=result.first_break.seq,
        reason=result.first_break.reason,
    )
