"""/api/v1/instruments (routes being built for issue 6)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/instruments", tags=["instruments"])
