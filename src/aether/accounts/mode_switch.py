"""Switching an account between paper and live: the rules, the two steps and their audit.

Rules:

* An account switches only to the other mode (``already_in_mode`` otherwise).
* Going live needs a Kraken credential in the vault that passed validation (its ``Balance``
  call succeeded), no open order on the account, and settings that allow live trading
  (``Settings.live_trading_refusal``, given as ``live_refusal``).
* Going back to paper cancels the account's open orders first, one by one through the
  caller's canceller (the order service); if any stays open the account stays live and the
  refusal names each order and why.
* Step one (:func:`request`) checks the rules and issues a confirmation token
  (:mod:`aether.accounts.mode_tokens`). Step two (:func:`confirm`) spends it, checks the
  rules again under the account row's lock and switches.
* Both steps, and every refused confirmation, are audit entries; the token never is.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.accounts import mode_tokens
from aether.accounts.mode_tokens import ConfirmationRefused, IssuedToken
from aether.audit import log as audit
from aether.domain.accounts import AccountMode
from aether.domain.orders import TERMINAL
from aether.security import vault
from aether.security.venue_check import QUERY_FUNDS
from aether.storage.order_tables import OrderRow
from aether.storage.tables import AccountRow

__all__ = [
    "ConfirmationRefused",
    "ModeSwitchRefused",
    "OrderCanceller",
    "SwitchDone",
    "SwitchPlan",
    "SwitchRequested",
    "confirm",
    "open_order_ids",
    "request",
]

#: Cancels one open order of the account; None when it is cancelled (or already finished),
#: else why it could not be.
OrderCanceller = Callable[[AccountRow, str], Awaitable[str | None]]


class ModeSwitchRefused(Exception):
    """The switch is not allowed now; ``code`` is stable, the message says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class SwitchPlan:
    """What a confirmed switch will do."""

    account_id: uuid.UUID
    account_name: str
    from_mode: AccountMode
    to_mode: AccountMode
    open_orders: tuple[str, ...]

    def summary(self) -> list[str]:
        steps = [f"account {self.account_name} switches from {self.from_mode} to {self.to_mode}"]
        if self.to_mode is AccountMode.PAPER and self.open_orders:
            steps.append(
                f"first, its {len(self.open_orders)} open order(s) are cancelled at the venue: "
                + ", ".join(self.open_orders)
                + "; if any cannot be, the account stays live"
            )
        if self.to_mode is AccountMode.LIVE:
            steps.append("its orders go to Kraken with the account's stored credential")
        else:
            steps.append("its orders fill in the SimBroker; nothing more is sent to Kraken")
        steps.append("the account's runner restarts in the new mode")
        return steps


@dataclass(frozen=True, slots=True)
class SwitchRequested:
    plan: SwitchPlan
    confirmation: IssuedToken


@dataclass(frozen=True, slots=True)
class SwitchDone:
    account: AccountRow
    from_mode: AccountMode
    to_mode: AccountMode
    cancelled: tuple[str, ...]


async def open_order_ids(session: AsyncSession, account_id: uuid.UUID) -> list[str]:
    """The ``cl_ord_id`` of every order of the account not yet finished, oldest first."""
    rows = await session.scalars(
        select(OrderRow.cl_ord_id)
        .where(
            OrderRow.account_id == account_id,
            OrderRow.status.not_in([s.value for s in TERMINAL]),
        )
        .order_by(OrderRow.id)
    )
    return list(rows.all())


async def _plan(
    session: AsyncSession, account: AccountRow, target: AccountMode, live_refusal: str | None
) -> SwitchPlan:
    """The plan, or ModeSwitchRefused naming the first rule that forbids the switch."""
    if account.mode == target.value:
        raise ModeSwitchRefused("already_in_mode", f"account {account.name} is already {target}")
    open_orders = tuple(await open_order_ids(session, account.id))
    plan = SwitchPlan(account.id, account.name, AccountMode(account.mode), target, open_orders)
    if target is AccountMode.PAPER:
        return plan
    if live_refusal is not None:
        raise ModeSwitchRefused("live_trading_refused", live_refusal)
    try:
        credential = await vault.metadata(session, account.id)
    except vault.CredentialNotFoundError:
        raise ModeSwitchRefused(
            "no_credentials",
            "going live needs the account's Kraken API key in the vault "
            "(PUT /api/v1/accounts/{id}/credentials); none is stored",
        ) from None
    if QUERY_FUNDS not in credential.permissions:
        raise ModeSwitchRefused(
            "credentials_not_validated",
            f"the stored Kraken key {credential.key_prefix}... has not passed validation "
            "(its Balance call did not succeed): upload it again",
        )
    if open_orders:
        raise ModeSwitchRefused(
            "open_orders",
            f"account {account.name} has {len(open_orders)} open order(s) "
            f"({', '.join(open_orders)}): cancel them before going live",
        )
    return plan


async def request(
    session: AsyncSession,
    account: AccountRow,
    target: AccountMode,
    *,
    actor: str,
    reason: str,
    live_refusal: str | None,
) -> SwitchRequested:
    """Step one: check the rules, issue a token and audit the request (the caller commits)."""
    plan = await _plan(session, account, target, live_refusal)
    issued = await mode_tokens.issue(session, account.id, target, actor=actor, reason=reason)
    await audit.append(
        session,
        actor=actor,
        account_id=account.id,
        action="account.mode_switch_requested",
        details={
            "from": plan.from_mode.value,
            "to": target.value,
            "reason": reason,
            "confirmation_id": str(issued.id),
            "expires_at": issued.expires_at.isoformat(),
            "open_orders": list(plan.open_orders),
        },
    )
    return SwitchRequested(plan, issued)


async def _refused(
    session: AsyncSession,
    account_id: uuid.UUID,
    target: AccountMode,
    *,
    actor: str,
    why: str,
    code: str,
) -> None:
    """Roll back what the refused step wrote, audit the refusal, commit."""
    await session.rollback()
    await audit.append(
        session,
        actor=actor,
        account_id=account_id,
        action="account.mode_switch_refused",
        details={"to": target.value, "code": code, "why": why},
    )
    await session.commit()


async def _locked(session: AsyncSession, account_id: uuid.UUID) -> AccountRow:
    account = await session.get(
        AccountRow, account_id, with_for_update=True, populate_existing=True
    )
    assert account is not None  # accounts are never deleted
    return account


async def _switch(
    session: AsyncSession,
    account: AccountRow,
    plan: SwitchPlan,
    *,
    actor: str,
    reason: str,
    confirmation_id: uuid.UUID,
    cancelled: tuple[str, ...],
) -> SwitchDone:
    account.mode = plan.to_mode.value
    account.updated_at = datetime.now(UTC)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        account_id=account.id,
        action="account.mode_switched",
        details={
            "from": plan.from_mode.value,
            "to": plan.to_mode.value,
            "reason": reason,
            "confirmation_id": str(confirmation_id),
            "cancelled_orders": list(cancelled),
        },
    )
    await session.commit()
    return SwitchDone(account, plan.from_mode, plan.to_mode, cancelled)


async def confirm(
    session: AsyncSession,
    account_id: uuid.UUID,
    target: AccountMode,
    token: str,
    *,
    actor: str,
    reason: str,
    live_refusal: str | None,
    cancel: OrderCanceller,
) -> SwitchDone:
    """Step two: spend the token and switch, in committed transactions of ``session``.

    Raises ConfirmationRefused (nothing spent) or ModeSwitchRefused (the account keeps its
    mode); either is audited. Going to paper, the token is spent before the cancels."""
    try:
        account = await _locked(session, account_id)
        spent = await mode_tokens.spend(session, token, account_id, target, actor=actor)
        plan = await _plan(session, account, target, live_refusal)
    except (ConfirmationRefused, ModeSwitchRefused) as exc:
        code = exc.code if isinstance(exc, ModeSwitchRefused) else "confirmation_token"
        await _refused(session, account_id, target, actor=actor, why=str(exc), code=code)
        raise
    if not plan.open_orders:
        return await _switch(
            session,
            account,
            plan,
            actor=actor,
            reason=reason,
            confirmation_id=spent.id,
            cancelled=(),
        )
    await session.commit()  # the token is spent; no transaction waits on the venue
    failures = []
    for cl_ord_id in plan.open_orders:
        why = await cancel(account, cl_ord_id)
        if why is not None:
            failures.append(f"{cl_ord_id} ({why})")
    account = await _locked(session, account_id)
    still_open = await open_order_ids(session, account_id)
    code, message = "", ""
    if account.mode != plan.from_mode.value:
        code, message = "mode_changed", f"account {account.name} became {account.mode} meanwhile"
    elif failures or still_open:
        left = failures or [f"{cl_ord_id} (still open)" for cl_ord_id in still_open]
        code = "orders_not_cancelled"
        message = f"account {account.name} stays live: could not cancel " + ", ".join(left)
    if code:
        await _refused(session, account_id, target, actor=actor, why=message, code=code)
        raise ModeSwitchRefused(code, message)
    cancelled = tuple(plan.open_orders)
    return await _switch(
        session,
        account,
        plan,
        actor=actor,
        reason=reason,
        confirmation_id=spent.id,
        cancelled=cancelled,
    )
