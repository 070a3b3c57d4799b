"""FastAPI dependencies: database session, authentication, scopes and account scope.

Every ``/api/v1`` route is a :class:`KeyCheckedRoute` (its area router's ``route_class``),
which authenticates before FastAPI reads the request body, so a malformed body without a key
is a 401, not a 422; the principal is kept in the request scope, and :func:`authenticated`
(every ``/api/v1`` route also gets it from its router) returns it, authenticating itself only
where no such route ran first.
Account-scoped routes take their account through :func:`account_access`, which refuses (403)
before touching the account when the caller holds no grant on it, so a refusal never reveals
whether an account exists.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from aether.accounts import service as accounts
from aether.api.errors import ApiError
from aether.api.state import AppState
from aether.domain.accounts import Role, Scope
from aether.security import key_store
from aether.security.principal import Principal
from aether.storage.tables import AccountRow

_bearer = HTTPBearer(auto_error=False, description="An Aether API key: `aek_<prefix>_<secret>`")


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.aether
    return state


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; routes commit explicitly, anything uncommitted rolls back."""
    async with app_state(request).sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(db_session)]


_PRINCIPAL_KEY = "aether.principal"


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message, headers={"WWW-Authenticate": "Bearer"})


async def authenticate_request(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer <key>``; ApiError 401 when missing or invalid.

    Resolved once per request (the key check is a deliberately slow hash) and kept in the
    request scope.
    """
    known: Principal | None = request.scope.get(_PRINCIPAL_KEY)
    if known is not None:
        return known
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthenticated("an API key is required: Authorization: Bearer <key>")
    async with app_state(request).sessions() as session:
        try:
            principal = await key_store.authenticate(session, token.strip(), now=datetime.now(UTC))
        except key_store.AuthenticationError as exc:
            raise _unauthenticated(str(exc)) from exc
        await session.commit()  # keeps the last_used_at stamp even on read-only routes
    request.scope[_PRINCIPAL_KEY] = principal
    return principal


async def authenticated(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller (see :func:`authenticate_request`); declares the bearer scheme in OpenAPI."""
    return await authenticate_request(request)


Caller = Annotated[Principal, Depends(authenticated)]


class KeyCheckedRoute(APIRoute):
    """A route that authenticates the caller before FastAPI parses the body or parameters.

    FastAPI decodes a JSON body before it solves any dependency, so without this an
    anonymous malformed body would get a 422 describing it instead of a 401. Routing has
    happened already: metrics and logs still name the route template.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticate_first(request: Request) -> Response:
            await authenticate_request(request)
            return await handler(request)

        return authenticate_first


def _require_scope(principal: Principal, scope: Scope) -> None:
    if scope not in principal.scopes:
        raise ApiError(403, "insufficient_scope", f"this API key lacks the '{scope}' scope")


def account_access(
    role: Role, scope: Scope
) -> Callable[[uuid.UUID, Principal, AsyncSession], Awaitable[AccountRow]]:
    """Dependency factory: the ``{account_id}`` account, if the caller holds ``role`` on it."""

    async def dependency(
        account_id: Annotated[uuid.UUID, Path(description="Account id (UUID)")],
        principal: Caller,
        session: Session,
    ) -> AccountRow:
        held = principal.role_on(account_id)
        if held is None:
            raise ApiError(403, "forbidden", "no access to this account")
        if not held.includes(role):
            raise ApiError(403, "forbidden", f"this action needs the '{role}' role on the account")
        _require_scope(principal, scope)
        try:
            return await accounts.get(session, account_id)
        except accounts.AccountNotFoundError as exc:
            raise ApiError(404, "not_found", "account not found") from exc

    return dependency


async def reader(principal: Caller) -> Principal:
    """The caller, if its key carries the ``read`` scope (platform-wide reads: market data,
    instruments, subscriptions, the audit query)."""
    _require_scope(principal, Scope.READ)
    return principal


Reader = Annotated[Principal, Depends(reader)]

ViewableAccount = Annotated[AccountRow, Depends(account_access(Role.VIEWER, Scope.READ))]
AdministeredAccount = Annotated[AccountRow, Depends(account_access(Role.ADMIN, Scope.ADMIN))]


async def platform_admin(request: Request, principal: Caller) -> Principal:
    """Platform-wide administration: an admin user, an admin-scoped key, an allowed network."""
    if not principal.is_platform_admin:
        raise ApiError(403, "forbidden", "platform administrators only")
    _require_scope(principal, Scope.ADMIN)
    client = request.client.host if request.client else None
    try:
        address = ipaddress.ip_address(client) if client else None
    except ValueError:
        address = None
    networks = app_state(request).settings.admin_networks
    if address is None or not any(address in net for net in networks):
        raise ApiError(403, "forbidden", "admin actions are not allowed from this address")
    return principal


PlatformAdmin = Annotated[Principal, Depends(platform_admin)]
