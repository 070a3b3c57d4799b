"""/readyz tells the truth about each dependency; /metrics counts by route template."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from aether.api.app import create_app
from aether.ops.localstack import LocalStack
from aether.settings import Settings
from aether.storage.migrate import upgrade

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("AETHER_TEST_DATABASE_URL")),
    reason="freezes its own embedded servers; external test servers cannot be frozen",
)


@pytest.fixture(scope="module")
def own_stack(aether_scratch: Path) -> Iterator[LocalStack]:
    """A private stack: these tests freeze servers other tests rely on."""
    stack = LocalStack(aether_scratch / "readiness-stack", durable=False)
    stack.start()
    upgrade(stack.postgres().owner_url)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
async def client(own_stack: LocalStack, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(  # type: ignore[arg-type]
        profile="test", data_dir=tmp_path, readiness_timeout_seconds=1.0, market_data_enabled=False
    )
    app = create_app(settings, own_stack.urls())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _wait_for(client: httpx.AsyncClient, status: int, within: float) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        response = await client.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)


async def test_ready_when_everything_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "audit_log", "redis", "nats"}
    assert "write" in body["checks"]["database"]["detail"]


async def test_frozen_database_is_named_within_five_seconds(
    client: httpx.AsyncClient, own_stack: LocalStack
) -> None:
    pid = own_stack.server("postgres").pid
    assert pid is not None
    started = time.monotonic()
    os.kill(pid, signal.SIGSTOP)
    try:
        response = await _wait_for(client, 503, within=5)
        elapsed = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert response.status_code == 503
    assert elapsed < 5
    assert response.json()["failing"] == ["database"]
    assert (await _wait_for(client, 200, within=15)).status_code == 200


@pytest.mark.parametrize("name", ["redis", "nats"])
async def test_stopped_server_is_named_and_recovery_is_seen(
    client: httpx.AsyncClient, own_stack: LocalStack, name: str
) -> None:
    pid = own_stack.server(name).pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        response = await _wait_for(client, 503, within=5)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert response.json()["failing"] == [name]
    assert (await _wait_for(client, 200, within=15)).status_code == 200


async def test_metrics_expose_requests_by_template_and_dependency_state(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/readyz")
    await client.get("/api/v1/accounts/00000000-0000-4000-8000-000000000000")
    text = (await client.get("/metrics")).text
    assert 'aether_http_requests_total{method="GET",route="/readyz",status="200"}' in text
    assert 'route="/api/v1/accounts/{account_id}",status="401"' in text
    assert "00000000-0000-4000-8000-000000000000" not in text
    assert 'aether_dependency_up{dependency="database"} 1.0' in text
