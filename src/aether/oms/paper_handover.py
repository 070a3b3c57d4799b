"""A paper account's venue as a process without its SimBroker sees it (the API): reads from
the database, commands handed to the runner that holds the account, through the outbox.

Rules a caller must know:

* :func:`paper_handover` builds one only while a runner holds the account (a live lease) and
  the account has a strategy (a runner runs only those); otherwise :class:`NoVenue` says
  which. An order on a pair outside the strategy's pairs is :class:`NoVenue` naming
  ``symbol``: the runner receives market data only for those.
* ``submit`` and ``cancel`` send nothing: they raise :class:`VenueHandedOver`, so the order
  service records the command as sent without an answer (the order ``submitted``, the outbox
  row waiting) and the account's runner settles it by ``cl_ord_id`` within a second: the
  runner's paper venue places or cancels it.
* ``available`` is the account's balances less what its open orders hold, as the portfolio
  API computes them (starting cash and recorded fills); ``quote`` is the pair's latest stored
  market price (a pair without one is :class:`~aether.oms.errors.VenueUnavailable`).
* Amending a paper order here is refused: the replacement of a cancel-replace would have to
  wait for the runner's cancel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aether.accounts.config import stored_config
from aether.domain.money import ZERO
from aether.oms.errors import NoVenue, VenueUnavailable
from aether.oms.leases import lease_of
from aether.oms.marks import latest_marks
from aether.oms.portfolio_view import balances
from aether.oms.venue_port import VenueOrder, VenueOutcomeUnknown, VenueQuote, VenueTrade
from aether.storage.tables import AccountRow

__all__ = ["PaperHandover", "VenueHandedOver", "paper_handover"]

HANDED_OVER = "handed to the runner that holds the account: it places the order"
NO_RUNNER_VENUE = "a paper account's orders fill in the SimBroker of the runner that holds it"


class VenueHandedOver(VenueOutcomeUnknown):
    """Nothing was sent: the outbox row is for the process that holds the account's venue,
    which settles it by ``cl_ord_id``."""


class PaperHandover:
    """One paper account's venue in a process that does not hold its SimBroker."""

    name = "paper"
    supports_amend = False

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        account: AccountRow,
        pairs: Iterable[str],
    ) -> None:
        self.sessions = sessions
        self.account = account
        self.pairs = frozenset(pairs)

    async def submit(self, request: object) -> str:
        raise VenueHandedOver(HANDED_OVER)

    async def cancel(self, cl_ord_id: str) -> bool:
        raise VenueHandedOver(HANDED_OVER)

    async def find(self, cl_ord_id: str) -> VenueOrder | None:
        return None  # only the runner's paper venue knows what it holds

    async def available(self, assets: Iterable[str]) -> Mapping[str, Decimal]:
        async with self.sessions() as session:
            view = await balances(session, self.account)
        lines = {line.asset: line.available for line in view.balances}
        return {asset: lines.get(asset, ZERO) for asset in assets}

    async def quote(self, symbol: str) -> VenueQuote:
        if symbol not in self.pairs:
            traded = ", ".join(sorted(self.pairs))
            raise NoVenue(
                f"{NO_RUNNER_VENUE}: {symbol} is not among the pairs its strategy trades "
                f"({traded}), the only ones its runner follows",
                field="symbol",
            )
        async with self.sessions() as session:
            mark = (await latest_marks(session, [symbol])).get(symbol)
        if mark is None:
            raise VenueUnavailable(
                f"no market price of {symbol} is stored yet: a paper order needs one",
                field="symbol",
            )
        return VenueQuote(mark.price, mark.price, mark.price)

    async def trades(self, since_ns: int) -> list[VenueTrade]:
        return []  # the runner records a paper account's fills

    async def aclose(self) -> None:
        """Nothing to close: it holds no connection."""


async def paper_handover(
    sessions: async_sessionmaker[AsyncSession], account: AccountRow
) -> PaperHandover:
    """The paper account's handover venue; NoVenue when no runner can take its orders."""
    strategy = stored_config(account.config).strategy
    if strategy is None:
        raise NoVenue(
            f"{NO_RUNNER_VENUE}, and runners run accounts with a strategy: set one",
            field="account_id",
        )
    async with sessions() as session:
        lease = await lease_of(session, account.id)
        now = await session.scalar(select(func.statement_timestamp()))
    if lease is None or now is None or lease.expires_at <= now:
        raise NoVenue(f"{NO_RUNNER_VENUE}, and no runner holds it now", field="account_id")
    return PaperHandover(sessions, account, strategy.pairs)
