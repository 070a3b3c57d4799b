"""/api/v1/market (routes being built for issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/market", tags=["market"])
