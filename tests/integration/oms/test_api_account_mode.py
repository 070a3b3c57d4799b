"""POST /api/v1/accounts/{id}/mode against a real database, the order service and the
emulator: two steps with a single-use token, refusals that keep the mode, cancels first when
going back to paper, and production never trading live on the emulator."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from aether.audit.keys import AuditKey
from aether.domain.orders import OrderType, Side
from aether.oms.new_order import NewOrder
from aether.ops.endpoints import ServerUrls
from aether.settings import Settings
from tests.conftest import Seed
from tests.integration.emulator.conftest import Emulator
from tests.integration.oms.conftest import Desk
from tests.integration.oms.mode_switch_helpers import ModeDesk, mode_audit, mode_desk, mode_of

REQUESTED, SWITCHED, REFUSED = (
    "account.mode_switch_requested",
    "account.mode_switched",
    "account.mode_switch_refused",
)


@pytest.fixture
async def modes(
    tmp_path: Path,
    emulator: Emulator,
    aether_urls: ServerUrls,
    aether_db_url: str,
    aether_audit_key: AuditKey,
) -> AsyncIterator[ModeDesk]:
    async with mode_desk(tmp_path, emulator, aether_urls, aether_db_url, aether_audit_key) as d:
        yield d


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def test_two_steps_switch_to_live_and_both_are_audited_without_secrets(
    modes: ModeDesk, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    kraken = modes.emulator.account(USD="1000")
    account, bob = aether_seed.bob_account, aether_seed.bob
    await modes.store(account, kraken)

    asked = await modes.ask(account, bob.headers, "live")
    assert asked.status_code == 202, asked.text
    body = asked.json()
    assert (body["current_mode"], body["target_mode"], body["open_orders"]) == (
        "paper",
        "live",
        [],
    )
    assert "from paper to live" in body["summary"][0]
    token = body["confirmation_token"]
    assert await mode_of(aether_pg, account) == "paper"
    stored = await aether_pg.fetchrow("SELECT * FROM mode_switch_tokens")
    assert stored is not None
    assert stored["token_hash"] == _sha256(token)
    assert token not in repr(dict(stored))
    assert (stored["requested_by"], stored["target_mode"]) == ("user:bob", "live")

    done = await modes.ask(account, bob.headers, "live", confirmation_token=token)
    assert done.status_code == 200, done.text
    assert done.json() == {
        "account_id": str(account),
        "mode": "live",
        "previous_mode": "paper",
        "cancelled_orders": [],
    }
    assert await mode_of(aether_pg, account) == "live"
    entries = await mode_audit(aether_pg, account)
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("user:bob", REQUESTED),
        ("user:bob", SWITCHED),
    ]
    assert "directors approved it" in entries[1]["details"]
    for entry in entries:
        for secret in (token, kraken.key, kraken.secret):
            assert secret not in entry["details"]


async def test_going_live_needs_validated_credentials(
    modes: ModeDesk, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    account, bob = aether_seed.bob_account, aether_seed.bob
    missing = await modes.ask(account, bob.headers, "live")
    assert missing.status_code == 409, missing.text
    assert missing.json()["error"]["code"] == "no_credentials"

    await modes.store(account, modes.emulator.account(USD="1"), permissions=())
    unproven = await modes.ask(account, bob.headers, "live")
    assert unproven.status_code == 409, unproven.text
    assert unproven.json()["error"]["code"] == "credentials_not_validated"
    assert await mode_of(aether_pg, account) == "paper"
    assert await aether_pg.fetchval("SELECT count(*) FROM mode_switch_tokens") == 0


async def test_going_live_is_refused_while_the_account_has_open_orders(
    desk: Desk, modes: ModeDesk, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    account, root = desk.account.id, aether_seed.admin
    await modes.store(account, desk.kraken)
    token = await modes.token(account, root.headers, "live")  # asked while nothing was open
    order = NewOrder(
        "XBTUSD", Side.BUY, OrderType.LIMIT, Decimal("0.001"), desk.far_bid(), cl_ord_id="open-1"
    )
    placed = await desk.service.submit(desk.account, order)
    assert placed.status == "accepted"
    try:
        asked = await modes.ask(account, root.headers, "live")
        confirmed = await modes.ask(account, root.headers, "live", confirmation_token=token)
    finally:
        await desk.service.cancel(desk.account, "open-1")
    for refused in (asked, confirmed):
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "open_orders"
        assert "open-1" in refused.json()["error"]["message"]
    assert await mode_of(aether_pg, account) == "paper"
    used = await aether_pg.fetchval(
        "SELECT used_at FROM mode_switch_tokens WHERE token_hash = $1", _sha256(token)
    )
    assert used is None  # a refused switch spends nothing
    assert [e["action"] for e in await mode_audit(aether_pg, account)] == [REQUESTED, REFUSED]


async def _refused_token(modes: ModeDesk, seed: Seed, mode: str, token: str, user: str) -> str:
    headers = seed.admin.headers if user == "root" else seed.bob.headers
    answer = await modes.ask(seed.bob_account, headers, mode, confirmation_token=token)
    assert answer.status_code == 422, answer.text
    fields = answer.json()["error"]["fields"]
    assert fields[0]["field"] == "body.confirmation_token"
    message: str = fields[0]["message"]
    return message


async def test_a_token_of_another_account_mode_or_user_expired_or_used_is_refused(
    modes: ModeDesk, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    root, bob_account = aether_seed.admin, aether_seed.bob_account
    for account in (bob_account, aether_seed.company):
        await modes.store(account, modes.emulator.account(USD="1000"))
    theirs = await modes.token(aether_seed.company, root.headers, "live")
    good = await modes.token(bob_account, root.headers, "live")
    stale = await modes.token(bob_account, root.headers, "live")
    await aether_pg.execute(
        "UPDATE mode_switch_tokens SET created_at = now() - interval '200 seconds', "
        "expires_at = now() - interval '80 seconds' WHERE token_hash = $1",
        _sha256(stale),
    )

    cases = [
        ("live", "amc_" + "x" * 43, "root", "not one this platform issued"),
        ("live", "short", "root", "string should match pattern"),
        ("live", theirs, "root", "another account"),
        ("paper", good, "root", "to switch to live, not paper"),
        ("live", good, "bob", "another user"),
        ("live", stale, "root", "expired"),
    ]
    for mode, token, user, why in cases:
        assert why in (await _refused_token(modes, aether_seed, mode, token, user)).lower()
        assert await mode_of(aether_pg, bob_account) == "paper"

    await modes.switch_with(bob_account, root.headers, "live", good)  # never spent above
    assert await mode_of(aether_pg, bob_account) == "live"
    again = await _refused_token(modes, aether_seed, "live", good, "root")
    assert "already used" in again


async def _live_with_an_open_order(modes: ModeDesk, seed: Seed) -> str:
    """Bob's account made live through both steps, with one resting order at the emulator."""
    kraken = modes.emulator.account(USD="100000", XBT="1")
    await modes.store(seed.bob_account, kraken)
    await modes.switch(seed.bob_account, seed.bob.headers, "live")
    order = {
        "symbol": "XBTUSD",
        "side": "buy",
        "type": "limit",
        "quantity": "0.001",
        "price": str(modes.far_bid()),
        "cl_ord_id": "rests-1",
    }
    url = f"/api/v1/accounts/{seed.bob_account}/orders"
    placed = await modes.client.post(url, json=order, headers=seed.bob.headers)
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "accepted"
    return kraken.key


async def test_back_to_paper_cancels_the_open_orders_at_the_venue_first(
    modes: ModeDesk, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    key = await _live_with_an_open_order(modes, aether_seed)
    exchange = modes.emulator.runtime.exchange if modes.emulator.runtime else None
    assert exchange is not None
    assert [o.cl_ord_id for o in exchange.open_orders(key)] == ["rests-1"]
    account, bob = aether_seed.bob_account, aether_seed.bob

    asked = await modes.ask(account, bob.headers, "paper")
    assert asked.status_code == 202, asked.text
    assert asked.json()["open_orders"] == ["rests-1"]
    assert "cancelled" in asked.json()["summary"][1]
    done = await modes.ask(
        account, bob.headers, "paper", confirmation_token=asked.json()["confirmation_token"]
    )
    assert done.status_code == 200, done.text
    assert done.json()["cancelled_orders"] == ["rests-1"]
    assert exchange.open_orders(key) == []
    assert await mode_of(aether_pg, account) == "paper"
    status = await aether_pg.fetchval(
        "SELECT status FROM orders WHERE account_id = $1 AND cl_ord_id = 'rests-1'", account
    )
    assert status == "cancelled"
    entries = await mode_audit(aether_pg, account)
    assert [e["action"] for e in entries][-2:] == [REQUESTED, SWITCHED]
    assert "rests-1" in entries[-1]["details"]


async def test_an_order_that_cannot_be_cancelled_keeps_the_account_live(
    modes: ModeDesk, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    key = await _live_with_an_open_order(modes, aether_seed)
    account, bob = aether_seed.bob_account, aether_seed.bob
    token = await modes.token(account, bob.headers, "paper")
    refusing = {"rest_error": "EGeneral:Permission denied", "count": 1000, "scope": "private"}
    assert modes.emulator.http.post("/emulator/faults", json=refusing).status_code == 200
    try:
        answer = await modes.ask(account, bob.headers, "paper", confirmation_token=token)
    finally:
        modes.emulator.http.post("/emulator/faults", json={"clear": True})
    assert answer.status_code == 409, answer.text
    error = answer.json()["error"]
    assert error["code"] == "orders_not_cancelled"
    assert "rests-1" in error["message"]
    assert "stays live" in error["message"]
    assert await mode_of(aether_pg, account) == "live"
    assert modes.emulator.runtime is not None
    assert [o.cl_ord_id for o in modes.emulator.runtime.exchange.open_orders(key)] == ["rests-1"]
    assert [e["action"] for e in await mode_audit(aether_pg, account)][-1] == REFUSED
    # Once the venue answers again, a new confirmation goes through.
    await modes.switch(account, bob.headers, "paper")
    assert modes.emulator.runtime.exchange.open_orders(key) == []


async def test_production_settings_refuse_live_trading_against_the_emulator(
    modes: ModeDesk, aether_seed: Seed, aether_pg: asyncpg.Connection, tmp_path: Path
) -> None:
    account, bob = aether_seed.bob_account, aether_seed.bob
    await modes.store(account, modes.emulator.account(USD="1000"))
    token = await modes.token(account, bob.headers, "live")
    production = Settings(
        profile="production",
        venue="kraken",
        kraken_rest_url=modes.emulator.url,
        data_dir=tmp_path / "prod",
        market_data_enabled=False,
    )
    modes.app.state.aether.settings = production
    for answer in (
        await modes.ask(account, bob.headers, "live"),
        await modes.ask(account, bob.headers, "live", confirmation_token=token),
    ):
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "live_trading_refused"
        assert modes.emulator.url in answer.json()["error"]["message"]
    assert await mode_of(aether_pg, account) == "paper"


async def test_only_account_admins_may_switch(
    modes: ModeDesk, aether_seed: Seed, aether_pg: asyncpg.Connection
) -> None:
    alice, bob = aether_seed.alice, aether_seed.bob
    trader = await modes.ask(aether_seed.alice_account, alice.headers, "live")
    stranger = await modes.ask(aether_seed.company, bob.headers, "live")
    for answer in (trader, stranger):
        assert answer.status_code == 403, answer.text
    url = f"/api/v1/accounts/{aether_seed.bob_account}/mode"
    no_reason = await modes.client.post(url, json={"mode": "live"}, headers=bob.headers)
    assert no_reason.status_code == 422, no_reason.text
    assert no_reason.json()["error"]["fields"][0]["field"] == "body.reason"
    assert await aether_pg.fetchval("SELECT count(*) FROM mode_switch_tokens") == 0
