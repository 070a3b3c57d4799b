"""A runner service over this test's database and the worker's NATS, and a market on the bus
that the test writes itself (the ingest's wire format, on the ingest's subjects)."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.accounts.config import AccountConfigPatch, apply_patch, stored_config
from aether.audit.keys import AuditKey, audit_session_info
from aether.bus.subjects import market_subject
from aether.domain.events import BookLevel, BookSnapshot, Tick
from aether.marketdata import wire
from aether.oms.reconcile_report import ReconciliationMetrics
from aether.ops.endpoints import ServerUrls
from aether.ops.tasks import stop_task
from aether.runner.service import RunnerService
from aether.storage.database import create_engine, session_factory
from aether.storage.tables import AccountRow
from tests.support.polling import eventually

NS = 1_000_000_000
#: Market time of the test's first trade: a whole minute, so bars fall where the test says.
T0 = 1_800_000_000 * NS


@dataclass
class Market:
    """Publishes trades and books of XBTUSD on the bus as the ingest would."""

    client: Client
    _ids: Any = None

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)

    async def trade(
        self, minute: float, price: str, qty: str = "0.5", symbol: str = "XBTUSD"
    ) -> None:
        ts = T0 + int(minute * 60 * NS)
        tick = Tick("BTC/USD", Decimal(price), Decimal(qty), ts, next(self._ids), "buy")
        await self.client.publish(
            market_subject(symbol, "trade"), wire.encode_trade(symbol, tick, ts)
        )

    async def book(self, minute: float, bid: str, ask: str) -> None:
        ts = T0 + int(minute * 60 * NS)
        book = BookSnapshot(
            "BTC/USD",
            (BookLevel(Decimal(bid), Decimal(5)),),
            (BookLevel(Decimal(ask), Decimal(5)),),
            ts,
        )
        payload = wire.encode_book("XBTUSD", book, ts)
        await self.client.publish(market_subject("XBTUSD", "book"), payload)

    async def flush(self) -> None:
        await self.client.flush()


@pytest.fixture
async def market(aether_urls: ServerUrls) -> AsyncIterator[Market]:
    client = await nats.connect(aether_urls.nats_url)
    try:
        yield Market(client)
    finally:
        await client.close()


@pytest.fixture
async def runner_sessions(
    aether_db_url: str, aether_audit_key: AuditKey
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(aether_db_url, pool_size=6)
    try:
        yield session_factory(engine, info=audit_session_info(aether_audit_key))
    finally:
        await engine.dispose()


RunnerFactory = Callable[[str], RunnerService]


@pytest.fixture
async def runners(
    runner_sessions: async_sessionmaker[AsyncSession],
    aether_urls: ServerUrls,
    emulator: Any,
    tmp_path: Path,
) -> AsyncIterator[Callable[[str], Any]]:
    """Start runner services by holder name; every one still running is stopped after."""
    tasks: list[asyncio.Task[None]] = []

    async def start(holder: str) -> RunnerService:
        service = RunnerService(
            runner_sessions,
            nats_url=aether_urls.nats_url,
            kraken_url=emulator.url,
            nonce_dir=tmp_path / "nonces",
            live_refusal=None,
            metrics=ReconciliationMetrics(CollectorRegistry()),
            holder=holder,
        )
        tasks.append(asyncio.create_task(service.run(), name=f"runner {holder}"))
        return service

    try:
        yield start
    finally:
        for task in tasks:
            await stop_task(task)


async def configure(session: AsyncSession, account_id: uuid.UUID, patch: dict[str, Any]) -> None:
    """Patch the account's configuration directly (the API's validation, without the API)."""
    account = await session.get(AccountRow, account_id)
    assert account is not None
    config = apply_patch(stored_config(account.config), AccountConfigPatch.model_validate(patch))
    account.config = config.to_json()
    await session.commit()


async def running(service: RunnerService, account_id: uuid.UUID) -> None:
    """Wait until ``service`` runs the account's engine and the bus has its subscriptions."""

    def engine_up() -> bool:
        held = service.process.held.get(account_id)
        return held is not None and held.runner is not None

    await eventually(engine_up, within=20)
    client = service.bus.client
    await eventually(lambda: service.bus.ready and service.inbox.subscribed("XBTUSD"), within=20)
    assert client is not None
    await client.flush()
