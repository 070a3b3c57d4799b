"""/api/v1/instruments: the instrument registry, and refreshing it on demand."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from aether.api.deps import KeyCheckedRoute, PlatformAdmin, Reader, Session, app_state
from aether.api.errors import ApiError, error_responses
from aether.api.market_services import MarketServices
from aether.audit import log as audit
from aether.marketdata.registry import RegistryLoadError
from aether.storage.tables import InstrumentRefreshRow, InstrumentRow

log = structlog.get_logger("aether.api.instruments")

router = APIRouter(
    prefix="/instruments",
    tags=["instruments"],
    responses=error_responses(403),
    route_class=KeyCheckedRoute,
)


def running_market(request: Request) -> MarketServices:
    """The market-data services of this process; 503 when market data is disabled here."""
    market = app_state(request).market
    if market is None:
        raise ApiError(
            503,
            "market_data_disabled",
            "market data is disabled on this server (AETHER_MARKET_DATA_ENABLED=false)",
        )
    return market


RunningMarket = Annotated[MarketServices, Depends(running_market)]


def text(value: Decimal) -> str:
    """A decimal as plain text (never exponent notation, never a JSON float)."""
    return format(value, "f")


class FeeTierOut(BaseModel):
    min_volume_usd: str = Field(description="30-day USD volume from which the tier applies")
    maker: str = Field(description="Maker fee as a fraction (0.0016 is 0.16 %)")
    taker: str = Field(description="Taker fee as a fraction")


class InstrumentOut(BaseModel):
    symbol: str = Field(description="Kraken REST altname, e.g. XBTUSD")
    ws_symbol: str = Field(description="Kraken WebSocket v2 name, e.g. BTC/USD")
    pair_key: str | None = Field(
        description="Kraken REST pair key, e.g. XXBTZUSD (null until the next registry load); "
        "routes that take a pair accept it, like the altname and the WebSocket names"
    )
    base: str
    quote: str
    tick_size: str
    lot_size: str
    min_quantity: str
    min_cost: str
    fees: list[FeeTierOut]
    status: str = Field(
        description="'online'; 'skipped: <reason>' when Kraken lists it but it is not "
        "tradable; 'not listed' when Kraken no longer lists it"
    )
    refreshed_at: datetime

    @classmethod
    def of(cls, row: InstrumentRow) -> InstrumentOut:
        return cls(
            symbol=row.symbol,
            ws_symbol=row.ws_symbol,
            pair_key=row.pair_key,
            base=row.base,
            quote=row.quote,
            tick_size=text(row.tick_size),
            lot_size=text(row.lot_size),
            min_quantity=text(row.min_quantity),
            min_cost=text(row.min_cost),
            fees=[FeeTierOut.model_validate(tier) for tier in row.fees],
            status=row.status,
            refreshed_at=row.refreshed_at,
        )


class InstrumentsOut(BaseModel):
    refreshed_at: datetime | None = Field(description="When the registry last loaded")
    instruments: list[InstrumentOut]


class RefreshOut(BaseModel):
    refreshed_at: datetime
    kept: list[str] = Field(description="Online USD pairs")
    skipped: dict[str, str] = Field(description="Listed pairs that are not tradable, and why")
    delisted: list[str] = Field(description="Stored pairs Kraken no longer lists")


@router.get("", summary="Tradable instruments and the time of the last refresh")
async def list_instruments(principal: Reader, session: Session) -> InstrumentsOut:
    rows = (await session.scalars(select(InstrumentRow).order_by(InstrumentRow.symbol))).all()
    refreshed_at = await session.scalar(
        select(InstrumentRefreshRow.at).order_by(InstrumentRefreshRow.id.desc()).limit(1)
    )
    return InstrumentsOut(
        refreshed_at=refreshed_at, instruments=[InstrumentOut.of(r) for r in rows]
    )


@router.post(
    "/refresh",
    summary="Reload the registry from Kraken now (platform administrators)",
    description="Answers 502 naming the error when Kraken cannot be loaded; the stored "
    "instruments are then unchanged.",
    responses=error_responses(502, 503),
)
async def refresh_instruments(
    admin: PlatformAdmin, market: RunningMarket, session: Session
) -> RefreshOut:
    try:
        summary = await market.registry.refresh()
    except RegistryLoadError as exc:
        raise ApiError(502, "venue_unavailable", f"instrument refresh failed: {exc}") from exc
    await audit.append(
        session,
        actor=admin.actor,
        action="instruments.refreshed",
        details={
            "at": summary.at,
            "kept": list(summary.kept),
            "skipped": dict(summary.skipped),
            "delisted": list(summary.delisted),
        },
    )
    await session.commit()
    return RefreshOut(
        refreshed_at=summary.at,
        kept=list(summary.kept),
        skipped=dict(summary.skipped),
        delisted=list(summary.delisted),
    )
