"""A database error on a route answers a plain 500 and is logged without the values it
carries: not the new key's Argon2 hash, not the name sent, not PostgreSQL's "Failing row"
detail; neither by the API's own handler nor when the server logs the exception."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from aether.api.app import create_app
from aether.ops.endpoints import ServerUrls
from aether.ops.logs import configure_logging
from aether.settings import Settings
from tests.conftest import Seed
from tests.support.logging_state import restored_logging

REFUSED_NAME = "refused-by-the-database"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    with restored_logging():
        yield


@pytest.mark.usefixtures("restore_logging")
async def test_a_failed_insert_logs_no_hash_and_no_parameters(
    aether_settings: Settings,
    aether_urls: ServerUrls,
    aether_seed: Seed,
    aether_owner_db_url: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    log_file = tmp_path / "logs" / "aether.log"
    configure_logging(log_file=log_file)  # here: stderr is the one capfd captures
    # The database itself refuses this one name, after the key's hash has been computed.
    owner = await asyncpg.connect(aether_owner_db_url)
    try:
        await owner.execute(
            f"ALTER TABLE api_keys ADD CONSTRAINT refuse_one_name CHECK (name <> '{REFUSED_NAME}')"
        )
    finally:
        await owner.close()
    app = create_app(aether_settings, aether_urls)
    async with app.router.lifespan_context(app):
        # As a server does: the app's exception reaches the server, which logs it too.
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            with pytest.raises(Exception) as raised:  # noqa: PT011 - whatever the driver raises
                await client.post(
                    "/api/v1/keys",
                    json={"name": REFUSED_NAME, "scopes": ["read"]},
                    headers=aether_seed.admin.headers,
                )
            logging.getLogger("uvicorn.error").error(
                "Exception in ASGI application", exc_info=raised.value
            )
        quiet = httpx.ASGITransport(
            app=app, client=("127.0.0.1", 50000), raise_app_exceptions=False
        )
        async with httpx.AsyncClient(transport=quiet, base_url="http://testserver") as client:
            answer = await client.post(
                "/api/v1/keys",
                json={"name": REFUSED_NAME, "scopes": ["read"]},
                headers=aether_seed.admin.headers,
            )
    logging.getLogger().handlers[-1].flush()
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert REFUSED_NAME not in answer.text

    for output in (capfd.readouterr().err, log_file.read_text()):
        assert "$argon2id$" not in output
        assert "Failing row" not in output
        assert REFUSED_NAME not in output
        assert "[parameters:" not in output
        # What is logged still says what failed and where.
        assert "unhandled error" in output
        assert "Exception in ASGI application" in output
        assert "SQLSTATE 23514" in output
        assert "constraint=refuse_one_name" in output
        assert "INSERT INTO api_keys" in output
