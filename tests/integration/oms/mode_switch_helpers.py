"""Shared by the mode-switch tests: the app on the emulator, credentials in the vault, the two
steps as requests, and what the database holds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from aether.audit.keys import AuditKey
from aether.ops.endpoints import ServerUrls
from aether.security import vault
from aether.security.kek import resolve_kek_ring
from aether.settings import Settings
from aether.venues.kraken.rest import Credentials
from tests.integration.emulator.conftest import Emulator, Kraken
from tests.integration.market_api_helpers import running_app
from tests.integration.vault_helpers import vault_session, vault_settings

VALIDATED = ("query_closed_orders", "query_funds", "query_open_orders")


@dataclass
class ModeDesk:
    """The app (trading on the emulator) and what a test needs around it."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings
    db_url: str
    audit_key: AuditKey
    emulator: Emulator

    async def store(
        self, account_id: uuid.UUID, kraken: Kraken, permissions: tuple[str, ...] = VALIDATED
    ) -> None:
        """The emulator account's key in the vault, as a validated upload leaves it."""
        ring = resolve_kek_ring(self.settings)
        async with vault_session(self.db_url, self.audit_key, ring) as session:
            await vault.store(
                session,
                account_id,
                Credentials(kraken.key, kraken.secret),
                permissions=permissions,
                validated_at=datetime.now(UTC),
                actor="system:test",
            )
            await session.commit()

    async def ask(
        self, account_id: uuid.UUID, headers: dict[str, str], mode: str, **extra: Any
    ) -> httpx.Response:
        body = {"mode": mode, "reason": "directors approved it", **extra}
        return await self.client.post(
            f"/api/v1/accounts/{account_id}/mode", json=body, headers=headers
        )

    async def token(self, account_id: uuid.UUID, headers: dict[str, str], mode: str) -> str:
        """Step one; its confirmation token."""
        asked = await self.ask(account_id, headers, mode)
        assert asked.status_code == 202, asked.text
        token: str = asked.json()["confirmation_token"]
        return token

    async def switch(self, account_id: uuid.UUID, headers: dict[str, str], mode: str) -> None:
        """Both steps, expected to succeed."""
        await self.switch_with(
            account_id, headers, mode, await self.token(account_id, headers, mode)
        )

    async def switch_with(
        self, account_id: uuid.UUID, headers: dict[str, str], mode: str, token: str
    ) -> None:
        """The second step with ``token``, expected to succeed."""
        done = await self.ask(account_id, headers, mode, confirmation_token=token)
        assert done.status_code == 200, done.text

    def far_bid(self) -> Decimal:
        ticker = next(iter(self.emulator.public("Ticker", pair="XBTUSD")["result"].values()))
        return (Decimal(ticker["c"][0]) / 2).quantize(Decimal("0.1"), rounding=ROUND_DOWN)


@asynccontextmanager
async def mode_desk(
    tmp_path: Path,
    emulator: Emulator,
    urls: ServerUrls,
    db_url: str,
    audit_key: AuditKey,
) -> AsyncIterator[ModeDesk]:
    settings = vault_settings(tmp_path, emulator.url)
    async with running_app(settings, urls) as (app, client):
        yield ModeDesk(app, client, settings, db_url, audit_key, emulator)


async def mode_of(pg: asyncpg.Connection, account_id: uuid.UUID) -> str:
    mode: str = await pg.fetchval("SELECT mode FROM accounts WHERE id = $1", account_id)
    return mode


async def mode_audit(pg: asyncpg.Connection, account_id: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await pg.fetch(
        "SELECT actor, action, details::text AS details FROM audit_log "
        "WHERE account_id = $1 AND action LIKE 'account.mode%' ORDER BY seq",
        account_id,
    )
    return rows
