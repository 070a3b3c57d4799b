"""The latest balances a venue reported for an account, kept in ``account_balances``.

Rules a caller must know:

* :func:`save_balances` replaces the account's snapshot whole, in the caller's transaction:
  every asset given is upserted with ``observed_at``, and every stored asset not given (the
  venue no longer reports it) is deleted. The caller commits.
* :func:`load_balances` reads the snapshot back, assets in alphabetical order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from aether.oms.venue_port import VenueBalance
from aether.storage.balance_tables import AccountBalanceRow


async def save_balances(
    session: AsyncSession,
    account_id: uuid.UUID,
    balances: Mapping[str, VenueBalance],
    observed_at: datetime,
) -> None:
    """Make ``balances`` the account's stored snapshot, observed at ``observed_at``."""
    if observed_at.tzinfo is None:
        raise ValueError("observed_at must carry a time zone")
    gone = delete(AccountBalanceRow).where(AccountBalanceRow.account_id == account_id)
    if balances:
        gone = gone.where(AccountBalanceRow.asset.not_in(list(balances)))
        rows = [
            {
                "account_id": account_id,
                "asset": asset,
                "total": balance.total,
                "held": balance.held,
                "observed_at": observed_at,
            }
            for asset, balance in balances.items()
        ]
        upsert = insert(AccountBalanceRow).values(rows)
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=["account_id", "asset"],
                set_={
                    "total": upsert.excluded.total,
                    "held": upsert.excluded.held,
                    "observed_at": upsert.excluded.observed_at,
                },
            )
        )
    await session.execute(gone)


async def load_balances(session: AsyncSession, account_id: uuid.UUID) -> list[AccountBalanceRow]:
    """The account's stored snapshot (empty when none was ever saved)."""
    rows = await session.scalars(
        select(AccountBalanceRow)
        .where(AccountBalanceRow.account_id == account_id)
        .order_by(AccountBalanceRow.asset)
    )
    return list(rows.all())
