"""Which venue a runner's order service uses for an account: the account's SimBroker for a
paper account (held by this process), Kraken for a live one."""

from __future__ import annotations

from aether.oms.paper_venue import PaperVenues
from aether.oms.venue_choice import AccountVenues
from aether.oms.venue_port import OrderVenue
from aether.storage.tables import AccountRow

__all__ = ["RunnerVenues"]


class RunnerVenues:
    """A paper account's orders never reach a Kraken client: none is built for it."""

    def __init__(self, paper: PaperVenues, live: AccountVenues) -> None:
        self.paper = paper
        self.live = live

    async def venue_for(self, account: AccountRow) -> OrderVenue:
        if account.mode == "live":
            return await self.live.venue_for(account)
        return await self.paper.venue_for(account)
