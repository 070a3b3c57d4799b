"""A Kraken secret and key uploaded through the API appear in no log line, no answer, no
metric and no audit entry, whatever happens to them: upload, reads, rotation and refusals."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from aether.ops.endpoints import ServerUrls
from aether.ops.logs import configure_logging
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator
from tests.integration.market_api_helpers import running_app
from tests.integration.vault_helpers import vault_settings
from tests.support.logging_state import restored_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    with restored_logging():
        yield


@pytest.mark.usefixtures("restore_logging")
async def test_no_secret_or_full_key_leaves_the_vault(
    emulator: Emulator,
    aether_urls: ServerUrls,
    aether_seed: Seed,
    aether_pg: asyncpg.Connection,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    log_file = tmp_path / "logs" / "aether.log"
    configure_logging(level="DEBUG", log_file=log_file)
    first, second, stranger = (emulator.account(USD="10") for _ in range(3))
    secrets = [first.secret, first.key, second.secret, second.key, stranger.secret]
    alice, bob = aether_seed.alice, aether_seed.bob
    own, foreign = (
        f"/api/v1/accounts/{aether_seed.bob_account}/credentials",
        (f"/api/v1/accounts/{aether_seed.alice_account}/credentials"),
    )

    def pair(key: str, secret: str) -> dict[str, str]:
        return {"api_key": key, "api_secret": secret}

    bodies: list[str] = []
    async with running_app(vault_settings(tmp_path, emulator.url), aether_urls) as (_, client):
        for method, url, payload, headers, status in (
            ("PUT", own, pair(first.key, first.secret), bob.headers, 200),
            ("GET", own, None, bob.headers, 200),
            ("PUT", own, pair(second.key, second.secret), bob.headers, 200),  # rotation
            ("PUT", own, pair(second.key, stranger.secret), bob.headers, 422),  # wrong secret
            ("PUT", own, pair(second.key, second.secret + "%"), bob.headers, 422),  # malformed
            ("PUT", own, {**pair(second.key, second.secret), "x": 1}, bob.headers, 422),
            ("PUT", foreign, pair(second.key, second.secret), bob.headers, 403),
            ("PUT", own, pair(second.key, second.secret), {}, 401),
            ("GET", own, None, alice.headers, 403),
        ):
            response = await client.request(method, url, json=payload, headers=headers)
            assert response.status_code == status, (method, payload, response.text)
            bodies.append(response.text)
        bodies.append((await client.get("/metrics")).text)
        bodies.append((await client.get("/api/v1/audit", headers=bob.headers)).text)
    for handler in logging.getLogger().handlers:
        handler.flush()
    captured = capfd.readouterr()
    audit_rows = await aether_pg.fetch("SELECT actor, action, details::text FROM audit_log")
    searched = {
        "log file": log_file.read_text(),
        "stdout": captured.out,
        "stderr": captured.err,
        "audit log": repr([tuple(r) for r in audit_rows]),
        **{f"answer {i}": body for i, body in enumerate(bodies)},
    }
    assert "credential.rotated" in searched["audit log"]
    assert "/credentials" in searched["log file"]  # requests were logged, just not secrets
    leaks = [
        f"{where} holds secret #{n}"
        for where, text in searched.items()
        for n, secret in enumerate(secrets)
        if secret in text
    ]
    assert leaks == []
