"""JSON errors with stable codes. Clients branch on ``error.code``; nothing leaks a traceback.

Every error answer is :class:`ErrorBody`; :func:`error_responses` declares the statuses a
route can answer with in the OpenAPI schema. An unexpected error is logged without the
values a database error carries (see :mod:`aether.ops.exception_text`).
"""

from __future__ import annotations

from typing import Any, Final

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from aether.ops.exception_text import describe, traceback_text
from aether.ops.logs import redact_text

log = structlog.get_logger("aether.api")


class ApiError(Exception):
    """Raise from a route or dependency to answer with a JSON error."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers


class FieldError(BaseModel):
    field: str = Field(description="Where: body.name, query.start, path.account_id, ...")
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable: validation_error, unauthenticated, forbidden, ...")
    message: str
    request_id: str | None = Field(default=None, description="Also in X-Request-ID")
    fields: list[FieldError] | None = Field(default=None, description="422: each bad field")


class ErrorBody(BaseModel):
    """The shape of every error answer."""

    error: ErrorDetail


_DESCRIPTIONS: Final = {
    400: "Malformed request (a body that is not UTF-8 JSON)",
    401: "No API key, or an unknown, revoked or expired one",
    403: "The key lacks the scope, or the user the role, network or grant",
    404: "Not found (or not visible to the caller)",
    409: "Conflicts with the current state",
    413: "Request body over the size limit",
    422: "Invalid parameters; `error.fields` names each one",
    502: "The venue did not answer",
    503: "A dependency of this route is unavailable or disabled",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, each with :class:`ErrorBody`."""
    return {
        status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses
    }


def error_body(request: Request | None, code: str, message: str, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, **extra}
    request_id = request.scope.get("aether.request_id") if request is not None else None
    if request_id:
        error["request_id"] = request_id
    return {"error": error}


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "request"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    extra = {"fields": exc.fields} if exc.fields else {}
    return JSONResponse(
        error_body(request, exc.code, exc.message, **extra),
        status_code=exc.status,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"field": _field_name(tuple(err.get("loc", ()))), "message": err.get("msg", "invalid")}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return JSONResponse(
        error_body(request, "validation_error", f"invalid request: {summary}", fields=fields),
        status_code=422,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(request, code, str(exc.detail)),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Rendered here, not by the log pipeline (exc_info): the text must be safe whatever the
    # logging configuration, and a database error's message carries bound values.
    log.error(
        "unhandled error",
        path=request.url.path,
        error=redact_text(describe(exc)),
        traceback=redact_text(traceback_text(exc)),
    )
    return JSONResponse(error_body(request, "internal_error", "internal error"), status_code=500)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into the JSON error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
