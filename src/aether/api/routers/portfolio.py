"""/api/v1/accounts/{id}/positions|balances|fills|pnl: an account's portfolio, read from
PostgreSQL (``aether.oms.portfolio_view``, ``aether.oms.fill_pages``).

Reading needs the ``viewer`` role on the account and a ``read``-scoped key, exactly as the
order routes: a caller without a grant gets the same 403 for another account as for one that
does not exist. Money is an exact decimal string (no exponent). A value that needs a market
price the database does not hold (a mark) is null, and ``unmarked`` names the pairs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from aether.api.deps import KeyCheckedRoute, Session, ViewableAccount
from aether.api.errors import error_responses
from aether.api.types import BIGINT_MAX
from aether.domain.orders import Side
from aether.oms import portfolio_view as view
from aether.oms.fill_pages import MAX_LIMIT, FillLine, fill_page
from aether.oms.marks import Mark

router = APIRouter(
    prefix="/accounts",
    tags=["portfolio"],
    route_class=KeyCheckedRoute,
    responses=error_responses(403, 404, 422),
)


def _text(value: Decimal) -> str:
    return f"{value:f}"


def _maybe(value: Decimal | None) -> str | None:
    return None if value is None else _text(value)


class BalanceOut(BaseModel):
    asset: str
    total: str
    held: str = Field(description="Held by open orders")
    available: str


class BalancesOut(BaseModel):
    account_id: str
    mode: Literal["paper", "live"]
    source: Literal["fills", "venue"] = Field(
        description="fills: starting cash plus fills (paper); venue: the venue's last snapshot"
    )
    observed_at: datetime | None = Field(
        description="When the venue reported the snapshot (live); null for paper, or when "
        "reconciliation never read the venue"
    )
    balances: list[BalanceOut]
    unheld_orders: list[str] = Field(
        description="Open orders (cl_ord_id) whose hold the funds do not cover (paper)"
    )


class MarkOut(BaseModel):
    price: str
    at: datetime
    source: Literal["trade", "candle"]

    @classmethod
    def of(cls, mark: Mark | None) -> MarkOut | None:
        return (
            None if mark is None else cls(price=_text(mark.price), at=mark.at, source=mark.source)
        )


class PositionOut(BaseModel):
    symbol: str
    quantity: str
    average_cost: str | None = Field(description="Average price of the open FIFO lots")
    cost: str = Field(description="Cost of the open FIFO lots, USD")
    mark: MarkOut | None = Field(description="Latest stored market price; null when none")
    unrealized_pnl: str | None = Field(description="Null when the pair has no mark")
    realized_pnl: str = Field(description="Gross of fees, USD")


class PositionsOut(BaseModel):
    account_id: str
    positions: list[PositionOut]
    unmarked: list[str] = Field(description="Pairs held without a mark")


class FillOut(BaseModel):
    id: int = Field(description="Fill id: the paging cursor")
    trade_id: str
    venue: str
    cl_ord_id: str
    symbol: str
    side: Side
    price: str
    quantity: str
    fee: str
    fee_asset: str
    liquidity: Literal["maker", "taker"]
    ts: datetime
    decision_price: str | None = Field(description="The order's price at the decision")
    mid_at_submit: str | None = Field(description="The market mid when the order was sent")
    slippage: str | None = Field(
        description="Per unit, vs the decision price; positive is worse (a buy above, a sell below)"
    )

    @classmethod
    def of(cls, line: FillLine) -> FillOut:
        return cls(
            id=line.id,
            trade_id=line.trade_id,
            venue=line.venue,
            cl_ord_id=line.cl_ord_id,
            symbol=line.symbol,
            side=line.side,
            price=_text(line.price),
            quantity=_text(line.quantity),
            fee=_text(line.fee),
            fee_asset=line.fee_asset,
            liquidity="maker" if line.liquidity == "maker" else "taker",
            ts=line.ts,
            decision_price=_maybe(line.decision_price),
            mid_at_submit=_maybe(line.mid_at_submit),
            slippage=_maybe(line.slippage),
        )


class FillsOut(BaseModel):
    account_id: str
    fills: list[FillOut] = Field(description="Newest recorded first")
    next_before: int | None = Field(description="`before` for the next page; null at the end")


class PnlOut(BaseModel):
    account_id: str
    mode: Literal["paper", "live"]
    starting_cash: str | None = Field(description="Paper only")
    realized_pnl: str = Field(description="Gross of fees, USD")
    fees: str = Field(description="Fees paid, USD")
    net_realized_pnl: str
    unrealized_pnl: str | None = Field(description="Null when a held pair has no mark")
    equity: str | None = Field(description="Null when a held asset has no mark")
    unmarked: list[str]
    unmatched_fills: list[str] = Field(
        description="Fills the FIFO could not book (a sell of holdings bought elsewhere)"
    )
    as_of: datetime


@router.get("/{account_id}/balances", summary="The account's balances")
async def get_balances(account: ViewableAccount, session: Session) -> BalancesOut:
    found = await view.balances(session, account)
    lines = [
        BalanceOut(
            asset=b.asset, total=_text(b.total), held=_text(b.held), available=_text(b.available)
        )
        for b in found.balances
    ]
    return BalancesOut(
        account_id=str(account.id),
        mode="live" if found.mode == "live" else "paper",
        source=found.source,
        observed_at=found.observed_at,
        balances=lines,
        unheld_orders=found.unheld_orders,
    )


@router.get("/{account_id}/positions", summary="Positions: FIFO lots, marks and PnL per pair")
async def get_positions(account: ViewableAccount, session: Session) -> PositionsOut:
    lines = await view.positions(session, account)
    out = [
        PositionOut(
            symbol=p.symbol,
            quantity=_text(p.quantity),
            average_cost=_maybe(p.average_cost),
            cost=_text(p.cost),
            mark=MarkOut.of(p.mark),
            unrealized_pnl=_maybe(p.unrealized_pnl),
            realized_pnl=_text(p.realized_pnl),
        )
        for p in lines
    ]
    unmarked = [p.symbol for p in lines if p.quantity and p.mark is None]
    return PositionsOut(account_id=str(account.id), positions=out, unmarked=unmarked)


@router.get("/{account_id}/fills", summary="The account's fills, newest first, cursor-paged")
async def get_fills(
    account: ViewableAccount,
    session: Session,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Fills per page")] = 100,
    before: Annotated[
        int | None,
        Query(ge=1, le=BIGINT_MAX, description="`next_before` of the previous page"),
    ] = None,
) -> FillsOut:
    page = await fill_page(session, account.id, limit, before)
    fills = [FillOut.of(line) for line in page.fills]
    return FillsOut(account_id=str(account.id), fills=fills, next_before=page.next_before)


@router.get("/{account_id}/pnl", summary="Realised and unrealised PnL, fees and equity")
async def get_pnl(account: ViewableAccount, session: Session) -> PnlOut:
    found = await view.pnl(session, account)
    return PnlOut(
        account_id=str(account.id),
        mode="live" if found.mode == "live" else "paper",
        starting_cash=_maybe(found.starting_cash),
        realized_pnl=_text(found.realized_pnl),
        fees=_text(found.fees),
        net_realized_pnl=_text(found.net_realized_pnl),
        unrealized_pnl=_maybe(found.unrealized_pnl),
        equity=_maybe(found.equity),
        unmarked=found.unmarked,
        unmatched_fills=found.unmatched_fills,
        as_of=found.as_of,
    )
