"""Error handlers: every error, expected or not, leaves as ``{"error": {"code", "message"}}``.

Domain errors (``service.errors``) become their 4xx/5xx here and only here; validation and routing
errors get the same shape; anything unexpected is logged with a reference and answered 500.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from email.message import Message
from http import HTTPStatus

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from index import ShardUnavailableError
from service.admission import RETRY_AFTER_SECONDS as OVERLOADED_RETRY_AFTER_SECONDS
from service.errors import (
    ErrorCode,
    InvalidCitationError,
    InvalidRequestError,
    NotReadyError,
    OverloadedError,
    QueryTimeoutError,
    ReloadFailedError,
    ReloadUnsupportedError,
    ServiceError,
    UnknownDocumentError,
    UnknownPageError,
    body_example,
    describe_validation_errors,
    error_body,
    excerpt,
)

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"


def _error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """The one error shape; built from escaped JSON so no client input can break encoding."""
    return Response(
        error_body(code, message),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def _status_code_name(status: int) -> str:
    """``413`` -> ``request_entity_too_large``: a code for statuses without a dedicated one."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "http_error"
    return phrase.lower().replace(" ", "_").replace("-", "_")


def _is_json_content_type(value: str | None) -> bool:
    """The same test FastAPI applies before parsing a body as JSON."""
    if not value:
        return False
    message = Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def on_validation_error(request: Request, error: Exception) -> Response:
    """400 for a body that is not JSON, 415 for another content type, else 422 naming the fields."""
    assert isinstance(error, RequestValidationError)
    errors = error.errors()
    content_type = request.headers.get("content-type")
    example = body_example(request.url.path)
    if any(item["loc"][:1] == ("body",) for item in errors) and not _is_json_content_type(content_type):
        return _error_response(
            415,
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be application/json (got {excerpt(content_type)}); " + example,
        )
    for item in errors:
        if item["type"] == "json_invalid":
            reason = str((item.get("ctx") or {}).get("error", "syntax error"))
            position = item["loc"][1] if len(item["loc"]) > 1 else "?"
            return _error_response(
                400,
                ErrorCode.INVALID_JSON,
                f"the body is not valid JSON ({excerpt(reason)[1:-1]} at character {position}); {example}",
            )
    return _error_response(422, ErrorCode.INVALID_REQUEST, describe_validation_errors(errors, request.url.path))

async def on_http_error(request: Request, error: Exception) -> Response:
    """Starlette's own errors (no route, wrong method, undecodable body) in the one error shape."""
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code: str
    method = excerpt(request.method[:16])[1:-1]
    path = excerpt(request.url.path)
    if status == 404:
        code, message = ErrorCode.NOT_FOUND, f"no route {method} {path}; /docs lists the API"
    elif status == 405:
        allowed = (error.headers or {}).get("Allow", "another method")
        code = ErrorCode.METHOD_NOT_ALLOWED
        message = f"{method} is not allowed on {path}; use {allowed}"
    elif status == 400:
        # FastAPI raises a bare 400 only when the body cannot be decoded at all.
        code, message = ErrorCode.INVALID_JSON, f"the body could not be parsed; {body_example(request.url.path)}"
    else:
        code = _status_code_name(status)
        message = excerpt(str(error.detail))[1:-1]
    return _error_response(status, code, message, error.headers)

async def on_service_error(request: Request, error: Exception) -> Response:
    """A ``ServiceError`` as its status, code and message (with Retry-After where it applies)."""
    assert isinstance(error, ServiceError)
    if isinstance(error, NotReadyError):
        headers = {"Retry-After": RETRY_AFTER_SECONDS}
        return _error_response(503, ErrorCode.NOT_READY, str(error), headers)
    if isinstance(error, UnknownDocumentError):
        return _error_response(404, ErrorCode.UNKNOWN_DOCUMENT, str(error))
    if isinstance(error, UnknownPageError):
        return _error_response(404, ErrorCode.UNKNOWN_PAGE, str(error))
    if isinstance(error, OverloadedError):
        headers = {"Retry-After": str(OVERLOADED_RETRY_AFTER_SECONDS)}
        return _error_response(503, ErrorCode.OVERLOADED, str(error), headers)
    if isinstance(error, InvalidCitationError):
        return _error_response(422, ErrorCode.INVALID_CITATION, str(error))
    if isinstance(error, InvalidRequestError):
        return _error_response(422, ErrorCode.INVALID_REQUEST, str(error))
    if isinstance(error, QueryTimeoutError):
        return _error_response(504, ErrorCode.QUERY_TIMEOUT, str(error))
    if isinstance(error, ReloadFailedError):
        return _error_response(409, ErrorCode.RELOAD_FAILED, str(error))
    if isinstance(error, ReloadUnsupportedError):
        return _error_response(501, ErrorCode.RELOAD_UNSUPPORTED, str(error))
    return await on_unexpected_error(request, error)

async def on_shard_unavailable(request: Request, error: Exception) -> Response:
    """A remote shard that did not answer: 503 naming it; the query never ranks over the others."""
    assert isinstance(error, ShardUnavailableError)
    return _error_response(503, ErrorCode.SHARD_UNAVAILABLE, str(error), {"Retry-After": "1"})


async def on_unexpected_error(request: Request, error: Exception) -> Response:
    """500 with a reference to the logged traceback; nothing internal reaches the client."""
    reference = uuid.uuid4().hex[:12]
    logger.error(
        "unhandled error %s on %s %s",
        reference,
        request.method,
        request.url.path,
        exc_info=error,
    )
    return _error_response(
        500,
        ErrorCode.INTERNAL_ERROR,
        f"internal error (reference {reference}); the server log has the details",
    )



def add_error_handlers(app: FastAPI) -> None:
    """Install the handlers above on ``app``."""
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(ShardUnavailableError, on_shard_unavailable)
    app.add_exception_handler(Exception, on_unexpected_error)
