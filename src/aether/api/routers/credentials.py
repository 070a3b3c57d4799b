"""/api/v1/accounts/{id}/credentials: store (validated against Kraken) and describe the
account's Kraken API key. The secret and the full key never leave in any answer."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from aether.api.deps import (
    AdministeredAccount,
    Caller,
    KeyCheckedRoute,
    Session,
    ViewableAccount,
    app_state,
)
from aether.api.errors import ApiError, error_responses
from aether.security import vault
from aether.security.venue_check import (
    CredentialRejectedError,
    VenueUnavailableError,
    check_credentials,
    nonce_file,
)
from aether.venues.kraken.nonce import NonceStore

router = APIRouter(prefix="/accounts", tags=["credentials"], route_class=KeyCheckedRoute)


def _base64(value: str) -> str:
    try:
        if not base64.b64decode(value, validate=True):
            raise ValueError("empty")
    except (binascii.Error, ValueError):
        raise ValueError("must be base64, as Kraken shows the private key") from None
    return value


class CredentialUpload(BaseModel):
    """A Kraken API key pair; both are write-only."""

    model_config = ConfigDict(extra="forbid")

    api_key: str = Field(
        pattern=r"^[A-Za-z0-9+/=_-]+$",
        min_length=16,
        max_length=128,
        repr=False,
        description="Kraken API key",
        json_schema_extra={"writeOnly": True},
    )
    api_secret: Annotated[str, AfterValidator(_base64)] = Field(
        pattern=r"^[A-Za-z0-9+/]+={0,2}$",
        min_length=16,
        max_length=256,
        repr=False,
        description="Kraken private key (base64)",
        json_schema_extra={"writeOnly": True, "format": "password"},
    )


class CredentialOut(BaseModel):
    """What is known about the stored credential: never the secret or the full key."""

    account_id: uuid.UUID
    venue: Literal["kraken"] = "kraken"
    key_prefix: str = Field(description=f"The key's first {vault.KEY_PREFIX_CHARS} characters")
    permissions: list[str] = Field(
        description="What the key was proven able to do when validated (read-only calls that "
        "succeeded: query_funds, query_open_orders, query_closed_orders)"
    )
    kek_id: str = Field(description="The key-encryption key wrapping this credential")
    created_at: datetime
    created_by: str
    validated_at: datetime
    rewrapped_at: datetime | None

    @classmethod
    def of(cls, meta: vault.CredentialMetadata) -> CredentialOut:
        """The metadata as answered: the same fields, read by name."""
        return cls.model_validate(meta, from_attributes=True)


@router.put(
    "/{account_id}/credentials",
    summary="Store or replace the account's Kraken API key (validated with Kraken first)",
    responses=error_responses(400, 403, 404, 409, 413, 422, 502),
)
async def put_credentials(
    account: AdministeredAccount,
    body: CredentialUpload,
    principal: Caller,
    session: Session,
    request: Request,
) -> CredentialOut:
    account_id = account.id
    # No transaction stays open while Kraken is asked (that can take seconds).
    await session.rollback()
    settings = app_state(request).settings
    credentials = vault.KrakenCredentials(api_key=body.api_key, api_secret=body.api_secret)
    nonces = NonceStore(nonce_file(settings.data_dir / "nonces", body.api_key))
    try:
        permissions = await check_credentials(settings.kraken_rest_base, credentials, nonces)
    except CredentialRejectedError as exc:
        raise ApiError(
            422,
            "credentials_rejected",
            f"body.{exc.field}: {exc.message}; nothing was stored",
            fields=[{"field": f"body.{exc.field}", "message": exc.message}],
        ) from None
    except VenueUnavailableError as exc:
        raise ApiError(502, "venue_unavailable", f"{exc}; nothing was stored") from None
    meta = await vault.store(
        session,
        account_id,
        credentials,
        permissions=permissions,
        validated_at=datetime.now(UTC),
        actor=principal.actor,
    )
    await session.commit()
    return CredentialOut.of(meta)


@router.get(
    "/{account_id}/credentials",
    summary="The stored Kraken API key's metadata (never the secret)",
    responses=error_responses(403, 404, 422),
)
async def get_credentials(account: ViewableAccount, session: Session) -> CredentialOut:
    try:
        meta = await vault.metadata(session, account.id)
    except vault.CredentialNotFoundError:
        raise ApiError(
            404, "not_found", "no Kraken credential is stored for this account"
        ) from None
    return CredentialOut.of(meta)
