"""One account's lease on a real database: taken when free or expired, renewed only by its
current holder, fenced so that a stale holder's write is refused and a takeover waits for an
in-flight write to commit."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from aether.oms import leases
from aether.oms.leases import LeaseLost
from tests.integration.leases.conftest import (
    Sessions,
    acquire,
    make_accounts,
    renew,
    wait_for,
    wait_until_expired,
)

LONG = timedelta(seconds=60)
SHORT = timedelta(milliseconds=300)


async def test_a_live_lease_is_refused_to_others_and_extended_for_its_holder(
    sessions: Sessions,
) -> None:
    (account,) = await make_accounts(sessions, 1)
    first = await acquire(sessions, "runner-a", account, LONG)
    assert first is not None
    assert first.token == 1
    assert first.holder == "runner-a"

    assert await acquire(sessions, "runner-b", account, LONG) is None
    again = await acquire(sessions, "runner-a", account, LONG)
    assert again is not None
    assert (again.token, again.acquired_at) == (first.token, first.acquired_at)
    assert again.expires_at > first.expires_at

    renewed = await renew(sessions, again, LONG)
    assert renewed.token == first.token
    assert renewed.expires_at > again.expires_at
    async with sessions() as session:
        current = await leases.lease_of(session, account)
    assert current is not None
    assert current.holder == "runner-a"
    assert current.token == 1


async def test_an_expired_lease_is_taken_over_with_a_larger_token(sessions: Sessions) -> None:
    (account,) = await make_accounts(sessions, 1)
    old = await acquire(sessions, "runner-a", account, SHORT)
    assert old is not None
    await wait_until_expired(sessions, old)

    new = await acquire(sessions, "runner-b", account, LONG)
    assert new is not None
    assert new.holder == "runner-b"
    assert new.token == old.token + 1
    assert new.acquired_at >= old.expires_at  # the tenures never overlap

    # The stale holder can neither renew nor release what it lost.
    with pytest.raises(LeaseLost, match=r"token 1 is stale: 'runner-b' took it at token 2"):
        await renew(sessions, old, LONG)
    async with sessions() as session:
        assert await leases.release(session, old) is False
        await session.commit()
        current = await leases.lease_of(session, account)
    assert current == new


async def test_an_expired_lease_cannot_be_renewed_even_when_nobody_took_it(
    sessions: Sessions,
) -> None:
    (account,) = await make_accounts(sessions, 1)
    old = await acquire(sessions, "runner-a", account, SHORT)
    assert old is not None
    await wait_until_expired(sessions, old)
    with pytest.raises(LeaseLost, match="the lease of token 1 ended"):
        await renew(sessions, old, LONG)
    # Taking it again starts a new tenure: a larger token, so the lapsed one stays refused.
    back = await acquire(sessions, "runner-a", account, LONG)
    assert back is not None
    assert back.token == 2


async def test_a_release_frees_the_account_at_once_and_the_token_still_grows(
    sessions: Sessions,
) -> None:
    (account,) = await make_accounts(sessions, 1)
    first = await acquire(sessions, "runner-a", account, LONG)
    assert first is not None
    async with sessions() as session:
        assert await leases.release(session, first) is True
        await session.commit()
    second = await acquire(sessions, "runner-b", account, LONG)
    assert second is not None
    assert second.token == 2
    with pytest.raises(LeaseLost):
        await renew(sessions, first, LONG)


async def test_check_fence_refuses_stale_tokens_other_holders_and_expired_leases(
    sessions: Sessions,
) -> None:
    fenced, unleased = await make_accounts(sessions, 2)
    old = await acquire(sessions, "runner-a", fenced, SHORT)
    assert old is not None
    async with sessions() as session:
        await leases.check_fence(session, fenced, "runner-a", old.token)  # current: accepted
        with pytest.raises(LeaseLost, match="token 1 of 'runner-b' is stale"):
            await leases.check_fence(session, fenced, "runner-b", old.token)
        with pytest.raises(LeaseLost, match="never leased"):
            await leases.check_fence(session, unleased, "runner-a", 1)

    await wait_until_expired(sessions, old)
    async with sessions() as session:
        with pytest.raises(LeaseLost, match="the lease of token 1 expired"):
            await leases.check_fence(session, fenced, "runner-a", old.token)

    new = await acquire(sessions, "runner-b", fenced, LONG)
    assert new is not None
    async with sessions() as session:
        with pytest.raises(LeaseLost, match=r"token 1 of 'runner-a' is stale.*token 2"):
            await leases.check_fence(session, fenced, "runner-a", old.token)
        await leases.check_fence(session, fenced, "runner-b", new.token)


async def test_a_takeover_waits_for_the_fenced_write_in_flight_to_commit(
    sessions: Sessions,
) -> None:
    (account,) = await make_accounts(sessions, 1)
    old = await acquire(sessions, "runner-a", account, timedelta(seconds=1))
    assert old is not None

    async with sessions() as writer:
        await leases.check_fence(writer, account, "runner-a", old.token)
        await wait_until_expired(sessions, old)  # expired while the write is still in flight

        async with sessions() as taker:
            pid = await taker.scalar(text("SELECT pg_backend_pid()"))
            takeover = asyncio.create_task(leases.acquire(taker, "runner-b", account, LONG))

            async def waiting_on_the_lock() -> bool:
                async with sessions() as probe:
                    wait = await probe.scalar(
                        text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                        {"pid": pid},
                    )
                return bool(wait == "Lock")

            await wait_for(waiting_on_the_lock, "the takeover to wait on the fenced lease row")
            assert not takeover.done()
            await writer.commit()  # the old tenure's write lands first ...
            new = await takeover
            await taker.commit()
    assert new is not None
    assert new.token == old.token + 1


async def test_bad_arguments_are_refused_naming_the_field(sessions: Sessions) -> None:
    (account,) = await make_accounts(sessions, 1)
    async with sessions() as session:
        with pytest.raises(ValueError, match="holder"):
            await leases.acquire(session, "", account, LONG)
        with pytest.raises(ValueError, match="ttl"):
            await leases.acquire(session, "runner-a", account, timedelta(0))
        with pytest.raises(ValueError, match="limit"):
            await leases.claim_free_accounts(session, "runner-a", LONG, limit=0)
        with pytest.raises(LookupError, match="account_id"):
            await leases.acquire(session, "runner-a", uuid.uuid4(), LONG)


def test_a_dead_runners_accounts_move_within_the_promised_15_seconds() -> None:
    assert timedelta(seconds=15) >= leases.LEASE_TTL + leases.CLAIM_POLL
    assert leases.RENEW_EVERY < leases.LEASE_TTL / 2
    holder = leases.new_holder_id()
    assert holder != leases.new_holder_id()
    assert 0 < len(holder) <= 200
