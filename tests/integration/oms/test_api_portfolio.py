"""/api/v1/accounts/{id}/positions|balances|fills|pnl of a paper account on a real database:
exact FIFO figures from fills at known prices, marks from the market tables, fills paged
without duplicates or gaps, bad parameters named, and other accounts out of reach."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from aether.domain.orders import Side
from aether.oms.instruments import tradable_instrument
from tests.conftest import Seed
from tests.integration.oms.portfolio_fills import Trade, order_with_fills, print_trade

_MONEY = {
    "total", "held", "available", "quantity", "average_cost", "cost", "price", "fee",
    "unrealized_pnl", "realized_pnl", "starting_cash", "fees", "net_realized_pnl", "equity",
    "decision_price", "mid_at_submit", "slippage",
}  # fmt: skip


def _exact(body: Any) -> None:
    """Every amount in the body is a plain decimal string (no exponent)."""
    if isinstance(body, list):
        for item in body:
            _exact(item)
    elif isinstance(body, dict):
        for key, value in body.items():
            if key in _MONEY and value is not None:
                assert re.fullmatch(r"-?\d+(\.\d+)?", value), (key, value)
            _exact(value)


async def _get(api: httpx.AsyncClient, seed: Seed, part: str, **params: Any) -> httpx.Response:
    url = f"/api/v1/accounts/{seed.alice_account}/{part}"
    return await api.get(url, params=params, headers=seed.alice.headers)


async def _trade_history(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Two buys (0.1 at 20000, 0.1 at 30000), a sell of 0.2 at 40000 filled 0.15, and a buy
    of 0.01 at 10000 resting: the paper account starts with 10000.00 USD."""
    await order_with_fills(
        session, account_id, Side.BUY, "0.1", "20000.0", [Trade("0.1", "20000.0", "8.00")]
    )
    await order_with_fills(
        session, account_id, Side.BUY, "0.1", "30000.0", [Trade("0.1", "30000.0", "12.00")]
    )
    await order_with_fills(
        session,
        account_id,
        Side.SELL,
        "0.2",
        "40000.0",
        [Trade("0.05", "40000.0", "2.00"), Trade("0.1", "40000.0", "4.00")],
        decision_price="40100.0",
    )
    await order_with_fills(session, account_id, Side.BUY, "0.01", "10000.0", [])


async def test_a_paper_account_s_portfolio_is_its_starting_cash_and_fills_replayed_fifo(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    await _trade_history(aether_session, aether_seed.alice_account)
    xbt = await tradable_instrument(aether_session, "XBTUSD")
    assert xbt is not None

    balances = await _get(aether_api, aether_seed, "balances")
    assert balances.status_code == 200, balances.text
    body = balances.json()
    _exact(body)
    assert (body["mode"], body["source"], body["observed_at"]) == ("paper", "fills", None)
    lines = {b["asset"]: b for b in body["balances"]}
    # 10000 - 2008 - 3012 + (6000 - 6): fees in USD come off the cash.
    assert Decimal(lines["USD"]["total"]) == Decimal("10974")
    # A priced buy holds its cost and the taker fee of the tier 30 days' volume reaches
    # (2000 + 3000 + 6000 USD traded), as the paper venue holds it.
    taker = xbt.fees.tier_for(Decimal("11000")).taker
    assert taker != xbt.fees.tiers[0].taker
    resting_hold = Decimal("0.01") * Decimal("10000.0") * (1 + taker)
    assert Decimal(lines["USD"]["held"]) == resting_hold
    assert Decimal(lines["USD"]["available"]) == Decimal("10974") - resting_hold
    # The sell's unfilled 0.05 holds the rest of the XBT.
    assert Decimal(lines["XBT"]["total"]) == Decimal("0.05")
    assert Decimal(lines["XBT"]["held"]) == Decimal("0.05")
    assert body["unheld_orders"] == []

    # No mark yet: unrealised and equity are null, and say why.
    unmarked = (await _get(aether_api, aether_seed, "positions")).json()
    assert unmarked["unmarked"] == ["XBTUSD"]
    [position] = unmarked["positions"]
    assert position["mark"] is None
    assert position["unrealized_pnl"] is None
    early_pnl = (await _get(aether_api, aether_seed, "pnl")).json()
    assert early_pnl["unrealized_pnl"] is None
    assert early_pnl["equity"] is None
    assert early_pnl["unmarked"] == ["XBTUSD"]

    await print_trade(aether_session, "XBTUSD", "35000.0")
    positions = (await _get(aether_api, aether_seed, "positions")).json()
    _exact(positions)
    assert positions["unmarked"] == []
    [position] = positions["positions"]
    assert position["symbol"] == "XBTUSD"
    # FIFO: the 0.15 sold closed the 20000 lot and half of the 30000 one.
    assert Decimal(position["quantity"]) == Decimal("0.05")
    assert Decimal(position["average_cost"]) == Decimal("30000")
    assert Decimal(position["cost"]) == Decimal("1500")
    assert Decimal(position["realized_pnl"]) == Decimal("2500")  # 6000 - (2000 + 1500)
    assert Decimal(position["mark"]["price"]) == Decimal("35000")
    assert position["mark"]["source"] == "trade"
    assert Decimal(position["unrealized_pnl"]) == Decimal("250")  # 0.05 * 35000 - 1500

    pnl = await _get(aether_api, aether_seed, "pnl")
    assert pnl.status_code == 200, pnl.text
    figures = pnl.json()
    _exact(figures)
    assert figures["mode"] == "paper"
    assert Decimal(figures["starting_cash"]) == Decimal("10000")
    assert Decimal(figures["realized_pnl"]) == Decimal("2500")
    assert Decimal(figures["fees"]) == Decimal("26")
    assert Decimal(figures["net_realized_pnl"]) == Decimal("2474")
    assert Decimal(figures["unrealized_pnl"]) == Decimal("250")
    assert Decimal(figures["equity"]) == Decimal("12724")  # 10974 + 0.05 * 35000
    assert figures["unmatched_fills"] == []
    assert figures["as_of"]


async def test_fills_are_newest_first_with_slippage_and_page_without_repeats_or_gaps(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession
) -> None:
    await _trade_history(aether_session, aether_seed.alice_account)
    first = (await _get(aether_api, aether_seed, "fills", limit=2)).json()
    _exact(first)
    assert len(first["fills"]) == 2
    newest = first["fills"][0]
    assert (newest["side"], newest["quantity"], newest["price"]) == ("sell", "0.1", "40000.0")
    assert (newest["fee"], newest["fee_asset"], newest["liquidity"]) == ("4.00", "USD", "taker")
    assert Decimal(newest["decision_price"]) == Decimal("40100.0")
    assert Decimal(newest["mid_at_submit"]) == Decimal("40100.0")
    assert Decimal(newest["slippage"]) == Decimal("100")  # sold 100 below the decision
    assert newest["cl_ord_id"]

    # A fill recorded between pages lands before the first page, never inside the walk.
    await order_with_fills(
        aether_session,
        aether_seed.alice_account,
        Side.BUY,
        "0.001",
        "30000.0",
        [Trade("0.001", "30000.0", "0.12")],
    )
    seen = [f["id"] for f in first["fills"]]
    cursor = first["next_before"]
    while cursor is not None:
        page = (await _get(aether_api, aether_seed, "fills", limit=2, before=cursor)).json()
        seen += [f["id"] for f in page["fills"]]
        cursor = page["next_before"]
    assert len(seen) == 4  # the four fills recorded before the walk began
    assert seen == sorted(seen, reverse=True)
    everything = (await _get(aether_api, aether_seed, "fills", limit=500)).json()
    ids = [f["id"] for f in everything["fills"]]
    assert everything["next_before"] is None
    assert ids[1:] == seen  # nothing skipped, nothing twice
    assert everything["fills"][0]["quantity"] == "0.001"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "query.limit"),
        ({"limit": "501"}, "query.limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"before": "-1"}, "query.before"),
        ({"before": "0"}, "query.before"),
        ({"before": str(2**63)}, "query.before"),
        ({"before": "1.5"}, "query.before"),
    ],
)
async def test_bad_paging_parameters_are_a_422_naming_the_parameter(
    aether_api: httpx.AsyncClient, aether_seed: Seed, params: dict[str, str], field: str
) -> None:
    response = await _get(aether_api, aether_seed, "fills", **params)
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["error"]["fields"]] == [field]


@pytest.mark.parametrize("part", ["positions", "balances", "fills", "pnl"])
async def test_another_account_s_portfolio_is_refused_exactly_as_an_unknown_account(
    aether_api: httpx.AsyncClient, aether_seed: Seed, aether_session: AsyncSession, part: str
) -> None:
    await _trade_history(aether_session, aether_seed.alice_account)
    bob = aether_seed.bob.headers
    theirs = await aether_api.get(
        f"/api/v1/accounts/{aether_seed.alice_account}/{part}", headers=bob
    )
    nowhere = await aether_api.get(f"/api/v1/accounts/{uuid.uuid4()}/{part}", headers=bob)
    assert theirs.status_code == nowhere.status_code == 403
    assert theirs.json()["error"]["code"] == nowhere.json()["error"]["code"]
    assert theirs.json()["error"]["message"] == nowhere.json()["error"]["message"]
    # Bob's own account shows none of Alice's trading.
    own = await aether_api.get(f"/api/v1/accounts/{aether_seed.bob_account}/{part}", headers=bob)
    assert own.status_code == 200, own.text
    assert "40000" not in own.text
    anonymous = await aether_api.get(f"/api/v1/accounts/{aether_seed.alice_account}/{part}")
    assert anonymous.status_code == 401
