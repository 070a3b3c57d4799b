"""/api/v1/subscriptions: which pairs and channels the market-data ingest follows.

Market data is platform-wide (one feed serves every account), so changing a subscription
needs a platform administrator; reading needs the ``read`` scope. Changes are stored (they
survive restarts), audited, and announced to the ingest, which changes only that pair.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from aether.api.deps import KeyCheckedRoute, PlatformAdmin, Reader, Session, app_state
from aether.api.errors import ApiError, error_responses
from aether.api.types import CodeText, PairText
from aether.bus.subjects import SUBSCRIBABLE_KINDS
from aether.marketdata import subscriptions
from aether.marketdata.subscriptions import Subscription, SubscriptionError

router = APIRouter(
    prefix="/subscriptions",
    tags=["subscriptions"],
    responses=error_responses(403),
    route_class=KeyCheckedRoute,
)


class SubscriptionOut(BaseModel):
    symbol: str
    ws_symbol: str
    kinds: list[str]
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, sub: Subscription) -> SubscriptionOut:
        return cls(
            symbol=sub.symbol,
            ws_symbol=sub.ws_symbol,
            kinds=list(sub.kinds),
            created_at=sub.created_at,
            created_by=sub.created_by,
        )


class SubscriptionChanged(SubscriptionOut):
    announced: bool = Field(
        description="The change was handed to the bus for the ingest; when false (bus "
        "unreachable or market data disabled here) the ingest picks it up from the table."
    )


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: Annotated[
        PairText,
        Field(
            min_length=1,
            max_length=32,
            examples=["XBTUSD", "BTC/USD"],
            description="A Kraken spot USD pair: XBTUSD, BTC/USD, XBT/USD or XXBTZUSD, case "
            "ignored; the answer names the altname (XBTUSD)",
        ),
    ]
    kinds: list[CodeText] = Field(
        default_factory=lambda: list(SUBSCRIBABLE_KINDS),
        max_length=8,
        description=f"Channels, any of {', '.join(SUBSCRIBABLE_KINDS)} (default: all)",
    )


def _unprocessable(exc: SubscriptionError, location: str = "body") -> ApiError:
    return ApiError(
        422,
        "validation_error",
        str(exc),
        fields=[{"field": f"{location}.{exc.field}", "message": str(exc)}],
    )


async def _announce(request: Request, symbol: str, ws_symbol: str, kinds: list[str]) -> bool:
    market = app_state(request).market
    return market is not None and await market.announce(symbol, ws_symbol, kinds)


@router.get("", summary="The pairs the ingest follows")
async def list_subscriptions(principal: Reader, session: Session) -> list[SubscriptionOut]:
    return [SubscriptionOut.of(s) for s in await subscriptions.list_all(session)]


@router.post(
    "",
    summary="Subscribe a pair, or change its channels (platform administrators)",
    description="Sets the pair's channels to `kinds`. A pair that is not an online USD pair "
    "of the instrument registry, or an unknown kind, is a 422 naming it.",
    responses=error_responses(400, 413, 422),
)
async def subscribe(
    request: Request, body: SubscriptionIn, admin: PlatformAdmin, session: Session
) -> SubscriptionChanged:
    try:
        sub = await subscriptions.subscribe(session, body.symbol, body.kinds, actor=admin.actor)
    except SubscriptionError as exc:
        raise _unprocessable(exc) from exc
    await session.commit()
    announced = await _announce(request, sub.symbol, sub.ws_symbol, list(sub.kinds))
    return SubscriptionChanged(**SubscriptionOut.of(sub).model_dump(), announced=announced)


@router.delete(
    "/{symbol:path}",
    summary="Unsubscribe a pair (platform administrators)",
    description="A pair that is not a USD pair of the instrument registry is a 422 naming it; "
    "one that is not subscribed is a 404.",
    responses=error_responses(404, 422),
)
async def unsubscribe(
    request: Request,
    symbol: Annotated[
        PairText,
        Path(
            max_length=32,
            description="XBTUSD, BTC/USD (URL-encoded BTC%2FUSD), XBT/USD or XXBTZUSD",
        ),
    ],
    admin: PlatformAdmin,
    session: Session,
) -> SubscriptionChanged:
    try:
        symbol = await subscriptions.pair_symbol(session, symbol)
    except SubscriptionError as exc:
        raise _unprocessable(exc, "path") from exc
    removed = await subscriptions.unsubscribe(session, symbol, actor=admin.actor)
    if removed is None:
        raise ApiError(404, "not_found", f"{symbol} is not subscribed")
    await session.commit()
    announced = await _announce(request, removed.symbol, removed.ws_symbol, [])
    return SubscriptionChanged(**SubscriptionOut.of(removed).model_dump(), announced=announced)
