"""Account lifecycle: create, read, reconfigure, and the first-run initialisation."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aether.accounts.config import (
    AccountConfig,
    AccountConfigPatch,
    apply_patch,
    config_diff,
    stored_config,
)
from aether.audit import log as audit
from aether.domain.accounts import AccountKind, AccountMode, Role, Scope
from aether.security import key_store, users
from aether.security.api_keys import NewApiKey
from aether.storage.tables import AccountRow


class AccountNotFoundError(LookupError):
    pass


class AccountExistsError(ValueError):
    pass


class AlreadyInitialisedError(RuntimeError):
    pass


async def create(
    session: AsyncSession,
    *,
    name: str,
    kind: AccountKind,
    actor: str,
    config: AccountConfig | None = None,
) -> AccountRow:
    """Create a paper account and audit it. Names are unique.

    Accounts always start in paper mode; going live is a separate, guarded step.
    """
    if await session.scalar(select(AccountRow.id).where(AccountRow.name == name)) is not None:
        raise AccountExistsError(f"an account named {name!r} already exists")
    cfg = config or AccountConfig()
    row = AccountRow(
        id=uuid.uuid4(),
        name=name,
        kind=kind.value,
        mode=AccountMode.PAPER.value,
        base_currency="USD",
        status="active",
        config=cfg.to_json(),
    )
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor,
        account_id=row.id,
        action="account.created",
        details={"name": name, "kind": kind.value, "mode": row.mode, "config": cfg.to_json()},
    )
    return row


async def get(session: AsyncSession, account_id: uuid.UUID) -> AccountRow:
    row = await session.get(AccountRow, account_id)
    if row is None:
        raise AccountNotFoundError(str(account_id))
    return row


async def get_by_name(session: AsyncSession, name: str) -> AccountRow:
    row = await session.scalar(select(AccountRow).where(AccountRow.name == name))
    if row is None:
        raise AccountNotFoundError(name)
    return row


async def list_accounts(
    session: AsyncSession, account_ids: Collection[uuid.UUID] | None = None
) -> list[AccountRow]:
    """All accounts, or only ``account_ids`` when given, oldest first."""
    stmt = select(AccountRow).order_by(AccountRow.created_at, AccountRow.name)
    if account_ids is not None:
        stmt = stmt.where(AccountRow.id.in_(account_ids))
    return list((await session.scalars(stmt)).all())


async def update_config(
    session: AsyncSession, account: AccountRow, patch: AccountConfigPatch, *, actor: str
) -> AccountRow:
    """Apply a validated partial update and audit the exact fields that changed.

    Raises ``StoredConfigError`` when the stored configuration is one this version refuses.
    """
    before = stored_config(account.config)
    after = apply_patch(before, patch)
    changes = config_diff(before, after)
    if changes:
        account.config = after.to_json()
        account.updated_at = datetime.now(UTC)
        await session.flush()
        await audit.append(
            session,
            actor=actor,
            account_id=account.id,
            action="account.config_updated",
            details={"changes": changes},
        )
    return account


@dataclass(frozen=True, slots=True)
class Initialised:
    company: AccountRow
    directors: list[AccountRow]
    admin_user_id: uuid.UUID
    admin_name: str
    admin_key: NewApiKey


async def initialise(
    session: AsyncSession,
    *,
    company_name: str,
    director_names: list[str],
    admin_name: str,
    actor: str,
) -> Initialised:
    """First run: the company account, two director accounts and the first admin with a key.

    Refuses to run twice (AlreadyInitialisedError): later accounts are added one at a time.
    """
    if len(director_names) != 2:
        raise ValueError(
            f"exactly two director account names are needed, got {len(director_names)}"
        )
    names = [company_name, *director_names]
    if len(set(names)) != len(names):
        raise ValueError("account names must be distinct")
    if (await session.scalar(select(func.count()).select_from(AccountRow))) != 0:
        raise AlreadyInitialisedError("accounts already exist; add more with the accounts API")
    company = await create(session, name=company_name, kind=AccountKind.COMPANY, actor=actor)
    directors = [
        await create(session, name=n, kind=AccountKind.DIRECTOR, actor=actor)
        for n in director_names
    ]
    admin = await users.create(session, name=admin_name, is_platform_admin=True, actor=actor)
    for account in (company, *directors):
        await users.grant(
            session, user_id=admin.id, account_id=account.id, role=Role.ADMIN, actor=actor
        )
    _, key = await key_store.issue(
        session,
        user_id=admin.id,
        name="initial admin key",
        scopes=[Scope.READ, Scope.TRADE, Scope.ADMIN],
        expires_at=None,
        actor=actor,
    )
    return Initialised(company, directors, admin.id, admin.name, key)
