"""The FastAPI app factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import APIRouter, Depends, FastAPI

from aether import __version__
from aether.api import errors
from aether.api.deps import authenticated
from aether.api.market_services import build_market_services
from aether.api.middleware import BodySizeLimit, RequestObservability
from aether.api.order_services import OrderServices
from aether.api.routers import (
    account_mode,
    accounts,
    audit,
    credentials,
    health,
    instruments,
    keys,
    market_history,
    orders,
    portfolio,
    subscriptions,
)
from aether.api.state import AppState
from aether.api.ws_market import router as ws_market_router
from aether.audit.checkpointer import CheckpointWriter
from aether.audit.keys import audit_session_info, resolve_audit_key
from aether.ops.endpoints import ServerUrls
from aether.ops.metrics import ApiMetrics
from aether.security.kek import resolve_kek_ring, vault_session_info
from aether.settings import Profile, Settings
from aether.storage.database import create_engine, session_factory

log = structlog.get_logger("aether.api")

#: Paths served without authentication. Everything else must carry an API key; a test
#: enumerates every route and fails when one outside this list answers anonymously.
PUBLIC_PATHS: frozenset[str] = frozenset(
    {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect"}
)


def api_v1_router() -> APIRouter:
    """All ``/api/v1`` routes, behind authentication at the router level."""
    v1 = APIRouter(
        prefix="/api/v1",
        dependencies=[Depends(authenticated)],
        responses=errors.error_responses(401),
    )
    areas = (accounts, account_mode, credentials, orders, keys, audit, instruments, subscriptions)
    for area in (*areas, portfolio, market_history):
        v1.include_router(area.router)
    return v1


def create_app(settings: Settings, urls: ServerUrls) -> FastAPI:
    """Build the API. Refuses insecure production settings before anything starts."""
    settings.check_profile()
    audit_key = resolve_audit_key(settings)  # raises AuditKeyError before anything starts
    # The vault's KEKs, or KekError before anything starts; outside production the first
    # start creates <data dir>/vault/kek.key.
    kek_ring = resolve_kek_ring(settings, create=settings.profile is not Profile.PRODUCTION)
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(urls.database_url)
        sessions = session_factory(
            engine, info={**audit_session_info(audit_key), **vault_session_info(kek_ring)}
        )
        checkpoints = CheckpointWriter(
            sessions, settings.audit_checkpoint_file, settings.audit_checkpoint_seconds
        )
        market = (
            build_market_services(settings, urls, sessions, metrics.registry)
            if settings.market_data_enabled
            else None
        )
        app.state.aether = AppState(settings, urls, engine, sessions, metrics, market)
        order_services = OrderServices(settings, urls, sessions)
        app.state.order_service = order_services.service
        try:
            checkpoints.start()
            order_services.start()
            if market is not None:
                await market.start()
            log.info(
                "api started",
                profile=settings.profile.value,
                version=__version__,
                market_data=market is not None,
            )
            yield
        finally:
            if market is not None:
                await market.stop()
            await order_services.stop()
            await checkpoints.stop()  # one last signed checkpoint of the audit chain's head
            await engine.dispose()
            log.info("api stopped")

    production = settings.profile is Profile.PRODUCTION
    app = FastAPI(
        title="Aether",
        version=__version__,
        summary="Autonomous trading platform for Kraken spot USD pairs",
        lifespan=lifespan,
        docs_url=None if production else "/docs",
        redoc_url=None,
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(api_v1_router())
    app.include_router(ws_market_router)  # authenticates by its first message, see ws_market
    app.add_middleware(BodySizeLimit, limit=settings.max_request_body_bytes)
    app.add_middleware(RequestObservability, metrics=metrics)
    return app
