"""Which venue an account's orders go to, in a process that serves many accounts (the API).

* A paper account's orders belong to the SimBroker that the runner holding the account
  drives: here they are handed over through the outbox (:class:`PaperHandover`), never filled
  in this process.
* A live account trades on Kraken at the configured REST URL (the emulator locally) with its
  own credentials, which ``credentials_for`` reads (the credential vault); without that
  reader, or without stored credentials, it has no venue either.

One venue (one REST client and nonce file) is kept per account for the process's life. The
REST client paces itself to Kraken's rate limits of ``tier`` (the accounts' verification
tier).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.oms.errors import NoVenue
from aether.oms.kraken_venue import KrakenOrderVenue
from aether.oms.paper_handover import paper_handover
from aether.oms.venue_port import OrderVenue
from aether.security import vault
from aether.storage.tables import AccountRow
from aether.venues.kraken.nonce import NonceStore
from aether.venues.kraken.rate_limit import Tier
from aether.venues.kraken.rest import Credentials, KrakenRest

CredentialsReader = Callable[[AsyncSession, uuid.UUID], Awaitable[Credentials | None]]


async def vault_credentials(session: AsyncSession, account_id: uuid.UUID) -> Credentials | None:
    """The account's Kraken credentials from the vault (the read is audited), or None."""
    try:
        credentials = await vault.credentials_for(session, account_id)
    except vault.CredentialNotFoundError:
        return None
    await session.commit()  # the audit entry of the read
    return credentials


NO_VENUE = "no venue for this account yet"


class AccountVenues:
    """Each account's venue, built on first use and kept."""

    def __init__(
        self,
        kraken_url: str,
        nonce_dir: Path,
        sessions: async_sessionmaker[AsyncSession],
        credentials_for: CredentialsReader | None = None,
        *,
        tier: Tier = Tier.STARTER,
    ) -> None:
        self.kraken_url = kraken_url
        self.tier = tier
        self.nonce_dir = nonce_dir
        self.sessions = sessions
        self.credentials_for = credentials_for
        self._venues: dict[uuid.UUID, KrakenOrderVenue] = {}

    async def venue_for(self, account: AccountRow) -> OrderVenue:
        if account.mode != "live":
            return await paper_handover(self.sessions, account)
        known = self._venues.get(account.id)
        if known is not None:
            return known
        credentials = None
        if self.credentials_for is not None:
            async with self.sessions() as session:
                credentials = await self.credentials_for(session, account.id)
        if credentials is None:
            raise NoVenue(f"{NO_VENUE}: no Kraken credentials are stored", field="account_id")
        self.nonce_dir.mkdir(parents=True, exist_ok=True)
        rest = KrakenRest(
            self.kraken_url,
            credentials=credentials,
            nonces=NonceStore(self.nonce_dir / f"{account.id}.nonce"),
            tier=self.tier,
        )
        venue = self._venues.setdefault(account.id, KrakenOrderVenue(rest))
        if venue.rest is not rest:
            await rest.aclose()
        return venue

    async def aclose(self) -> None:
        venues, self._venues = list(self._venues.values()), {}
        for venue in venues:
            await venue.aclose()
