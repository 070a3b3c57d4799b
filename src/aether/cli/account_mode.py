"""``aether accounts mode ACCOUNT live|paper --reason TEXT``: both steps of a mode switch.

The same rules as ``POST /api/v1/accounts/{id}/mode`` (:mod:`aether.accounts.mode_switch`),
run against the platform's database as the operator ``system:cli``: the switch is prepared
and its summary shown, then confirmed after a prompt (or at once with ``--yes``). Going back
to paper cancels the account's open orders through the order service first, with the
account's credential from the vault (the KEK from settings, as ``aether vault`` finds it).
"""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from aether.accounts import mode_switch
from aether.audit.keys import AuditKey, audit_session_info
from aether.cli.context import DataDirOption, audit_key, database_url, run, settings_for
from aether.cli.output import console, fail
from aether.domain.accounts import AccountMode
from aether.security.kek import KekError, KekRing, resolve_kek_ring, vault_session_info
from aether.settings import Settings

ACTOR = "system:cli"


def _account_id(text: str) -> uuid.UUID | None:
    """``text`` as an account id, or None when it is a name."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def _switch(
    settings: Settings,
    url: str,
    key: AuditKey,
    ring: KekRing,
    account_ref: str,
    target: AccountMode,
    reason: str,
    yes: bool,
) -> None:
    # The order stack is imported only when a switch runs: it brings the venue clients.
    from aether.accounts import service
    from aether.api.routers.account_mode import order_service_canceller
    from aether.oms.service import OrderService
    from aether.oms.venue_choice import AccountVenues, vault_credentials
    from aether.storage.database import create_engine, session_factory

    engine = create_engine(url, pool_size=2)
    sessions = session_factory(engine, info={**audit_session_info(key), **vault_session_info(ring)})
    venues = AccountVenues(
        settings.kraken_rest_base, settings.data_dir / "nonces", sessions, vault_credentials
    )
    refusal = settings.live_trading_refusal()
    try:
        async with sessions() as session:
            by_id = _account_id(account_ref)
            try:
                account = await (
                    service.get(session, by_id)
                    if by_id
                    else service.get_by_name(session, account_ref)
                )
            except service.AccountNotFoundError:
                fail(f"ACCOUNT {account_ref}: no such account (`aether accounts list` shows them)")
            asked = await mode_switch.request(
                session, account, target, actor=ACTOR, reason=reason, live_refusal=refusal
            )
            await session.commit()
            for line in asked.plan.summary():
                console.print(f"- {line}", highlight=False)
            if not yes and not typer.confirm(f"Switch {account.name} to {target}?"):
                fail("not confirmed: nothing changed (the confirmation expires unused)")
            done = await mode_switch.confirm(
                session,
                account.id,
                target,
                asked.confirmation.token,
                actor=ACTOR,
                reason=reason,
                live_refusal=refusal,
                cancel=order_service_canceller(OrderService(sessions, venues)),
            )
    finally:
        await venues.aclose()
        await engine.dispose()
    if done.cancelled:
        console.print(f"cancelled {len(done.cancelled)} order(s): {', '.join(done.cancelled)}")
    console.print(f"account [bold]{done.account.name}[/] is now {done.to_mode}")


def mode(
    account: Annotated[str, typer.Argument(help="The account's name or id.")],
    target: Annotated[AccountMode, typer.Argument(metavar="live|paper", help="The new mode.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm without asking.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Switch an account between paper and live trading (prepare, confirm, switch)."""
    if len(reason.strip()) < 3:
        fail("--reason: say why, in at least 3 characters", code=2)
    settings = settings_for(data_dir)
    url = database_url(settings)
    key = audit_key(settings)
    try:
        ring = resolve_kek_ring(settings)
    except KekError as exc:
        fail(str(exc))
    try:
        run(lambda: _switch(settings, url, key, ring, account, target, reason.strip(), yes))
    except mode_switch.ModeSwitchRefused as exc:
        fail(f"{exc.code}: {exc.message}")
    except mode_switch.ConfirmationRefused as exc:
        fail(str(exc))
