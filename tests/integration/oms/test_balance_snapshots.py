"""save_balances on a real database, as the run-time role: a snapshot replaces the previous
one whole (upserted, vanished assets deleted) and touches no other account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from aether.oms.balance_snapshots import load_balances, save_balances
from aether.oms.venue_port import VenueBalance
from aether.storage.balance_tables import AccountBalanceRow
from tests.conftest import Seed


def _rows(rows: list[AccountBalanceRow]) -> dict[str, tuple[Decimal, Decimal, datetime]]:
    return {r.asset: (r.total, r.held, r.observed_at) for r in rows}


async def test_a_snapshot_is_upserted_and_assets_that_vanished_are_removed(
    aether_session: AsyncSession, aether_seed: Seed
) -> None:
    alice, bob = aether_seed.alice_account, aether_seed.bob_account
    first = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    await save_balances(
        aether_session,
        alice,
        {
            "USD": VenueBalance(Decimal("1000.50"), Decimal("10.25")),
            "XBT": VenueBalance(Decimal("0.5"), Decimal("0")),
        },
        first,
    )
    await save_balances(
        aether_session, bob, {"ETH": VenueBalance(Decimal("2"), Decimal("1"))}, first
    )
    await aether_session.commit()

    later = first + timedelta(minutes=5)
    snapshot = {
        "USD": VenueBalance(Decimal("900"), Decimal("0")),
        "ETH": VenueBalance(Decimal("3.000000001"), Decimal("0.1")),
    }
    await save_balances(aether_session, alice, snapshot, later)
    await aether_session.commit()

    assert _rows(await load_balances(aether_session, alice)) == {
        "ETH": (Decimal("3.000000001"), Decimal("0.1"), later),
        "USD": (Decimal("900"), Decimal("0"), later),
    }
    assert _rows(await load_balances(aether_session, bob)) == {
        "ETH": (Decimal("2"), Decimal("1"), first)
    }

    await save_balances(aether_session, alice, {}, later)  # the venue reports nothing
    await aether_session.commit()
    assert await load_balances(aether_session, alice) == []
    assert len(await load_balances(aether_session, bob)) == 1


async def test_a_time_without_a_zone_is_refused(
    aether_session: AsyncSession, aether_seed: Seed
) -> None:
    naive = datetime(2026, 12, 3)  # noqa: DTZ001 - the refused input itself
    with pytest.raises(ValueError, match="observed_at"):
        await save_balances(aether_session, aether_seed.alice_account, {}, naive)
