"""Runners racing for accounts on a real database, each on its own connection: exactly one
wins each account, claims never overlap, and a runner that stops renewing loses its accounts
to another within the lease's time to live and one poll."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from sqlalchemy import text

from aether.oms import leases
from aether.oms.leases import Lease
from tests.integration.leases.conftest import (
    Sessions,
    acquire,
    claim,
    database_now,
    make_accounts,
    renew,
    wait_for,
)

LONG = timedelta(seconds=60)
HOLDERS = ("runner-a", "runner-b", "runner-c", "runner-d")


async def _race(sessions: Sessions, account: uuid.UUID) -> list[Lease]:
    """Every holder tries to take ``account`` at the same moment, each on its own connection."""
    start = asyncio.Barrier(len(HOLDERS))

    async def one(holder: str) -> Lease | None:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))  # connected before the start line
            await start.wait()
            lease = await leases.acquire(session, holder, account, LONG)
            await session.commit()
        return lease

    results = await asyncio.gather(*(one(holder) for holder in HOLDERS))
    return [lease for lease in results if lease is not None]


async def test_racing_holders_exactly_one_wins_a_free_account(sessions: Sessions) -> None:
    for account in await make_accounts(sessions, 20):
        winners = await _race(sessions, account)
        assert len(winners) == 1, winners
        async with sessions() as session:
            assert await leases.lease_of(session, account) == winners[0]


async def test_racing_holders_exactly_one_wins_each_takeover(sessions: Sessions) -> None:
    (account,) = await make_accounts(sessions, 1)
    tokens = []
    for _ in range(20):
        winners = await _race(sessions, account)
        assert len(winners) == 1, winners
        tokens.append(winners[0].token)
        async with sessions() as session:
            assert await leases.release(session, winners[0]) is True
            await session.commit()
    assert tokens == list(range(1, 21))  # every new tenure, and only that, raises the token


async def test_claims_split_the_free_active_accounts_without_overlap(sessions: Sessions) -> None:
    held_elsewhere = await make_accounts(sessions, 3)  # the oldest: first in line for a claim
    suspended, *free = await make_accounts(sessions, 5)
    async with sessions() as session:
        await session.execute(
            text("UPDATE accounts SET status = 'suspended' WHERE id = :id"), {"id": suspended}
        )
        await session.commit()
    for account in held_elsewhere:
        assert await acquire(sessions, "runner-c", account, LONG) is not None

    first = await claim(sessions, "runner-a", LONG, limit=2)
    second = await claim(sessions, "runner-b", LONG, limit=2)
    mine = {lease.account_id for lease in first}
    theirs = {lease.account_id for lease in second}
    assert len(mine) == 2
    assert len(theirs) == 2
    assert not mine & theirs
    assert mine | theirs == set(free)
    assert await claim(sessions, "runner-a", LONG) == []  # nothing left, own leases included


async def test_racing_claims_never_share_an_account(sessions: Sessions) -> None:
    accounts = set(await make_accounts(sessions, 10))
    for _ in range(10):
        start = asyncio.Barrier(2)

        async def one(holder: str, start: asyncio.Barrier = start) -> list[Lease]:
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
                await start.wait()
                taken = await leases.claim_free_accounts(session, holder, LONG)
                await session.commit()
            return taken

        a, b = await asyncio.gather(one("runner-a"), one("runner-b"))
        mine = {lease.account_id for lease in a}
        theirs = {lease.account_id for lease in b}
        assert not mine & theirs
        assert mine | theirs == accounts
        async with sessions() as session:
            for lease in [*a, *b]:
                assert await leases.release(session, lease) is True
            await session.commit()


async def test_a_holder_that_stops_renewing_loses_its_accounts_within_ttl_and_one_poll(
    sessions: Sessions,
) -> None:
    ttl, poll = timedelta(seconds=2), timedelta(milliseconds=200)
    accounts = set(await make_accounts(sessions, 5))
    held = {lease.account_id: lease for lease in await claim(sessions, "runner-a", ttl)}
    assert set(held) == accounts
    stop_renewing = asyncio.Event()

    async def runner_a() -> None:
        """Renews every ttl/4 until told to stop: then it is as good as dead."""
        while not stop_renewing.is_set():
            await asyncio.sleep((ttl / 4).total_seconds())
            for account_id, lease in list(held.items()):
                held[account_id] = await renew(sessions, lease, ttl)

    taken: dict[uuid.UUID, Lease] = {}
    claims_while_a_renewed: list[Lease] = []

    async def runner_b() -> None:
        """Polls for free accounts until it holds them all."""
        while set(taken) != accounts:
            got = await claim(sessions, "runner-b", ttl)
            if not stop_renewing.is_set():
                claims_while_a_renewed.extend(got)
            taken.update((lease.account_id, lease) for lease in got)
            await asyncio.sleep(poll.total_seconds())

    a = asyncio.create_task(runner_a())
    b = asyncio.create_task(runner_b())
    renewals_end = await database_now(sessions) + ttl  # a few renewals of every lease
    await wait_for(
        lambda: _past(sessions, renewals_end), "runner-a to renew for a while", timeout=60
    )
    stop_renewing.set()
    await a  # its last renewals are in `held`
    await wait_for(lambda: _done(b), "runner-b to take every account over", timeout=60)
    await b

    assert claims_while_a_renewed == []
    for account_id, lease in taken.items():
        last = held[account_id]
        assert lease.token == last.token + 1
        assert lease.acquired_at >= last.expires_at  # never two holders at once
        # Taken on the first poll after expiry; a second of slack for a loaded machine.
        assert lease.acquired_at - last.expires_at <= poll + timedelta(seconds=1)


async def _past(sessions: Sessions, moment: datetime) -> bool:
    return await database_now(sessions) > moment


async def _done(task: asyncio.Task[None]) -> bool:
    return task.done()
