"""Public operational endpoints: /healthz, /readyz, /metrics (the explicit allowlist)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from aether.api.deps import app_state
from aether.ops.health import check_all, check_local
from aether.ops.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


class CheckOutcome(BaseModel):
    """One dependency's answer."""

    ok: bool
    detail: str
    ms: float


class Readiness(BaseModel):
    """``/readyz``'s body, the same shape whether ready (200) or not (503)."""

    status: Literal["ready", "not_ready"]
    failing: list[str]
    checks: dict[str, CheckOutcome]


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Every dependency answers (503 naming those that do not)",
    description="Database, `audit_log` (its table and refuse-change triggers, while the "
    "database answers), Redis and NATS; with market data enabled also `instruments` (not "
    "ready until this process has loaded the instrument registry once) and `ingest` (the "
    "market-data feed's own readiness).",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: `failing` names why"}},
)
async def readyz(request: Request) -> JSONResponse:
    state = app_state(request)
    results = await check_all(state.urls, state.settings.readiness_timeout_seconds)
    if state.market is not None:
        results.append(check_local("instruments", state.market.registry.readiness))
        results.append(check_local("ingest", state.market.ingest_readiness))
    state.metrics.observe_checks(results)
    failing = [r.name for r in results if not r.ok]
    body = {
        "status": "not_ready" if failing else "ready",
        "failing": failing,
        "checks": {
            r.name: {"ok": r.ok, "detail": r.detail, "ms": round(r.seconds * 1000, 1)}
            for r in results
        },
    }
    return JSONResponse(body, status_code=503 if failing else 200)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(app_state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)
