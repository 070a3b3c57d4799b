"""POST /api/v1/accounts/{id}/mode: switch an account between paper and live, in two steps.

Account admins only (``admin`` role, ``admin``-scoped key). Without ``confirmation_token``
the request is checked and answered 202 with a token valid for 120 s and a summary of what
will happen; the same caller sends the same request with the token to switch (200). Going
live needs a validated Kraken credential in the vault and no open orders, and settings that
allow live trading (never the emulator in production); going back to paper cancels the open
orders first through the order service, and the account stays live if any cannot be.
Refusals are 409 with a stable code; a token that does not fit (another account, mode or
user, expired, used, unknown) is 422 naming ``body.confirmation_token``. Rules:
:mod:`aether.accounts.mode_switch`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from aether.accounts import mode_switch
from aether.accounts.mode_switch import ConfirmationRefused, ModeSwitchRefused, OrderCanceller
from aether.api.deps import AdministeredAccount, Caller, KeyCheckedRoute, Session, app_state
from aether.api.errors import ApiError, error_responses
from aether.domain.accounts import AccountMode
from aether.domain.orders import OrderStatus
from aether.oms.errors import OrderNotOpen, OrderServiceError
from aether.oms.service import OrderService
from aether.storage.tables import AccountRow

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=KeyCheckedRoute)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class ModeSwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: AccountMode = Field(description="The mode to switch to")
    reason: Reason = Field(description="Why (kept in the audit log)")
    confirmation_token: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{16,100}$",
        description="From the first step's answer; absent, the switch is only prepared",
        json_schema_extra={"writeOnly": True},
    )


class ModeSwitchPending(BaseModel):
    """The first step's answer: what confirming will do, and the token to confirm with."""

    account_id: uuid.UUID
    current_mode: AccountMode
    target_mode: AccountMode
    confirmation_token: str = Field(description="Single use, for this caller, account and mode")
    expires_at: datetime
    open_orders: list[str] = Field(description="cl_ord_id of each open order now")
    summary: list[str]


class ModeSwitchDone(BaseModel):
    """The second step's answer: the account's mode now."""

    account_id: uuid.UUID
    mode: AccountMode
    previous_mode: AccountMode
    cancelled_orders: list[str] = Field(description="Orders cancelled before going to paper")


def order_service_canceller(service: OrderService) -> OrderCanceller:
    """Cancel one order through the order service; None once it is finished, else why not."""

    async def cancel(account: AccountRow, cl_ord_id: str) -> str | None:
        try:
            row = await service.cancel(account, cl_ord_id)
        except OrderNotOpen:
            return None  # it finished on its own meanwhile
        except OrderServiceError as exc:
            return str(exc)
        if OrderStatus(row.status).is_terminal:
            return None
        return f"the venue did not confirm the cancel; the order is {row.status}"

    return cancel


def _token_error(exc: ConfirmationRefused) -> ApiError:
    return ApiError(
        422,
        "invalid_confirmation_token",
        str(exc),
        fields=[{"field": "body.confirmation_token", "message": str(exc)}],
    )


@router.post(
    "/{account_id}/mode",
    summary="Switch the account between paper and live (two steps: prepare, then confirm)",
    status_code=status.HTTP_200_OK,
    responses={
        202: {"model": ModeSwitchPending, "description": "Prepared: confirm with the token"},
        **error_responses(403, 404, 409, 422),
    },
)
async def switch_mode(
    account: AdministeredAccount,
    body: ModeSwitchIn,
    principal: Caller,
    session: Session,
    request: Request,
    response: Response,
) -> ModeSwitchPending | ModeSwitchDone:
    refusal = app_state(request).settings.live_trading_refusal()
    try:
        if body.confirmation_token is None:
            asked = await mode_switch.request(
                session,
                account,
                body.mode,
                actor=principal.actor,
                reason=body.reason,
                live_refusal=refusal,
            )
            await session.commit()
            response.status_code = status.HTTP_202_ACCEPTED
            return ModeSwitchPending(
                account_id=account.id,
                current_mode=asked.plan.from_mode,
                target_mode=body.mode,
                confirmation_token=asked.confirmation.token,
                expires_at=asked.confirmation.expires_at,
                open_orders=list(asked.plan.open_orders),
                summary=asked.plan.summary(),
            )
        done = await mode_switch.confirm(
            session,
            account.id,
            body.mode,
            body.confirmation_token,
            actor=principal.actor,
            reason=body.reason,
            live_refusal=refusal,
            cancel=order_service_canceller(request.app.state.order_service),
        )
    except ModeSwitchRefused as exc:
        raise ApiError(409, exc.code, exc.message) from None
    except ConfirmationRefused as exc:
        raise _token_error(exc) from None
    return ModeSwitchDone(
        account_id=done.account.id,
        mode=done.to_mode,
        previous_mode=done.from_mode,
        cancelled_orders=list(done.cancelled),
    )
