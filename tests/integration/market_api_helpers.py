"""Shared by the market-data API tests: settings pointed at an emulator, a running app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from aether.api.app import create_app
from aether.api.state import AppState
from aether.ops.endpoints import ServerUrls
from aether.settings import Settings


def market_settings(tmp_path: Path, emulator_url: str, **overrides: Any) -> Settings:
    """Test settings with market data on, Kraken being the emulator at ``emulator_url``."""
    values: dict[str, Any] = {
        "profile": "test",
        "data_dir": tmp_path / "data",
        "market_data_enabled": True,
        "kraken_rest_url": emulator_url,
        "kraken_ws_url": emulator_url.replace("http", "ws") + "/v2",
        **overrides,
    }
    return Settings(**values)


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.aether
    return state


@asynccontextmanager
async def running_app(
    settings: Settings, urls: ServerUrls
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """A live app (lifespan run) and an HTTP client on it."""
    app = create_app(settings, urls)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield app, client


async def loaded(app: FastAPI, within: float = 10.0) -> None:
    """Wait for the app's instrument registry to finish its first load."""
    market = state_of(app).market
    assert market is not None, "market data is disabled in this app"
    assert await market.registry.wait_loaded(within), "the registry did not load"
