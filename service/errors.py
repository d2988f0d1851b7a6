"""Errors of the query service; the HTTP layer turns each into a structured 4xx/5xx body.

ServiceError (a ``GroundedError``, ``ingest.errors``)
├── NotReadyError          a request arrived before start-up finished (503 ``not_ready``)
├── UnknownDocumentError   a doc_id (in the path or in ``filters.doc_ids``) that is not in the
│                          loaded index (404 ``unknown_document``)
├── UnknownPageError       ``GET /documents/{doc_id}?page=N`` for a page the document does not
│                          have (404 ``unknown_page``)
├── OverloadedError        every query slot is busy and the queue is full, or the wait for a slot
│                          ran past ``queue_timeout_s`` (503 ``overloaded``, with Retry-After)
├── QueryTimeoutError      the query ran past ``query_timeout_s`` (504 ``query_timeout``)
├── InvalidCitationError   a ``POST /check`` citation range lies outside its document's text
│                          (422 ``invalid_citation``)
├── InvalidRequestError    arguments of a Python API call or an MCP tool break the wire schema's
│                          rules (also a ``ValueError``; 422 ``invalid_request`` if it reaches HTTP)
└── ReloadError
    ├── ReloadUnsupportedError  the served engine cannot be reloaded (501 ``reload_unsupported``)
    └── ReloadFailedError       the newest published version could not be loaded; the old one is
                                still served (409 ``reload_failed``)

A shard served on Ray Serve that does not answer in time raises ``index.errors.ShardUnavailableError``
from the engine; it is answered 503 ``shard_unavailable`` (naming the shard, with Retry-After), never
a ranking over the other shards.

Authentication is refused before routing, by ``service.auth``, as 401 ``unauthorized`` (no key or a
wrong one) and 403 ``forbidden`` (the query key on an admin route, or an admin route without an
admin key from a non-loopback client); those never raise through the app.

Every error body on the wire has one shape, ``{"error": {"code": str, "message": str}}``; the codes
are listed in ``ErrorCode`` so clients and tests share one vocabulary. The pure functions at the end
turn pydantic/FastAPI validation errors into one such message without ever serialising the raw
input: a client value appears only as an ASCII-escaped excerpt of at most ``EXCERPT_MAX_CHARS``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from index import GroundedError
from service.schemas import ANSWER_MAX_CHARS, CITATIONS_MAX, QUESTION_MAX_CHARS

EXCERPT_MAX_CHARS = 80
FIELD_NAME_MAX_CHARS = 40
MAX_REPORTED_ERRORS = 5

QUERY_BODY_EXAMPLE = '{"question": "..."}'
CHECK_BODY_EXAMPLE = ('{"answer": {"text": "...", "citations": [{"doc_id": "...", "start_char": 0, '
                      '"end_char": 120}]}}')
# The route paths whose body is not a query's (``service.routes.check.CHECK_PATH``; a test keeps them equal).
_BODY_EXAMPLES = {"/check": CHECK_BODY_EXAMPLE}


def body_example(path: str) -> str:
    """``send a JSON object such as ...`` with the body the route at ``path`` takes."""
    return f"send a JSON object such as {_BODY_EXAMPLES.get(path.rstrip('/') or '/', QUERY_BODY_EXAMPLE)}"


def shorter_body(path: str) -> str:
    """What to shorten when a body to ``path`` is over the size limit."""
    if path.rstrip("/") in _BODY_EXAMPLES:
        return (f"send a shorter answer (answer.text at most {ANSWER_MAX_CHARS} characters, at most "
                f"{CITATIONS_MAX} citations), or split it into several /check requests")
    return f"send a shorter question (at most {QUESTION_MAX_CHARS} characters)"


class ErrorCode(StrEnum):
    """The stable ``error.code`` values of the HTTP API."""

    INVALID_REQUEST = "invalid_request"  # 422: a field breaks the schema
    INVALID_JSON = "invalid_json"  # 400: the body is not parseable JSON
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"  # 415: Content-Type is not application/json
    PAYLOAD_TOO_LARGE = "payload_too_large"  # 413: body over max_body_bytes
    NOT_FOUND = "not_found"  # 404: no such route
    UNKNOWN_DOCUMENT = "unknown_document"  # 404: no such doc_id
    UNKNOWN_PAGE = "unknown_page"  # 404: no such page in the document (or it has no pages)
    METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
    NOT_READY = "not_ready"  # 503: engine not loaded or warm-up not answered yet
    OVERLOADED = "overloaded"  # 503: no query slot free and the queue full or waited out
    QUERY_TIMEOUT = "query_timeout"  # 504: the query exceeded query_timeout_s
    SHARD_UNAVAILABLE = "shard_unavailable"  # 503: a remote shard (--ray) did not answer in time
    UNAUTHORIZED = "unauthorized"  # 401: no API key, or a wrong one
    FORBIDDEN = "forbidden"  # 403: a valid key without the rights this route needs
    RELOAD_FAILED = "reload_failed"  # 409: the newest version did not load; the old one serves
    RELOAD_UNSUPPORTED = "reload_unsupported"  # 501: this engine cannot reload
    CORS_REJECTED = "cors_rejected"  # 400: a CORS preflight from an origin not allowed
    INVALID_CITATION = "invalid_citation"  # 422: a cited range outside its document's text
    INTERNAL_ERROR = "internal_error"  # 500: a bug; details only in the server log


class ServiceError(GroundedError):
    """Base class of service errors; the message says what to fix."""


class NotReadyError(ServiceError):
    """The engine is not loaded or has not answered its warm-up query yet."""


class UnknownDocumentError(ServiceError):
    """The requested doc_id is not in the loaded index."""


class UnknownPageError(ServiceError):
    """The requested page is not a page of the document (or the document has no pages)."""


class OverloadedError(ServiceError):
    """No query slot became free in time; the client should retry after a pause."""


class QueryTimeoutError(ServiceError):
    """The query ran over ``query_timeout_s`` (raised by admission control or by the engine)."""


class InvalidCitationError(ServiceError):
    """A citation's range does not lie inside its document's text."""


class InvalidRequestError(ServiceError, ValueError):
    """Arguments given in Python (``grounded.Index``, the MCP tools) break the rules an HTTP body must keep."""


class ReloadError(ServiceError):
    """Base class of reload failures; the previous engine keeps serving."""


class ReloadUnsupportedError(ReloadError):
    """The app was given no way to reload its engine."""


class ReloadFailedError(ReloadError):
    """Loading the newest published version failed; the message says why and what to fix."""


def error_body(code: str, message: str) -> bytes:
    """The JSON bytes of an error body.

    ``ensure_ascii`` escapes any unpaired surrogate, which would make a UTF-8 encoder raise.
    """
    return json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=True).encode()


def excerpt(value: object) -> str:
    """A short ASCII-safe rendering of a client-supplied value, at most ``EXCERPT_MAX_CHARS``."""
    if isinstance(value, str):
        rendered = json.dumps(value[:EXCERPT_MAX_CHARS], ensure_ascii=True)
    elif value is None or isinstance(value, bool | int | float):
        # str(int) raises beyond 4300 digits and JSON numbers can be that long; cap first.
        too_long = isinstance(value, int) and abs(value) >= 10**30
        rendered = "a very large integer" if too_long else json.dumps(value)
    elif isinstance(value, Mapping):
        return "an object"
    elif isinstance(value, bytes | bytearray):
        return f"{len(value)} bytes"
    elif isinstance(value, Sequence):
        return "an array"
    else:
        return f"a value of type {type(value).__name__}"
    if len(rendered) > EXCERPT_MAX_CHARS:
        rendered = rendered[: EXCERPT_MAX_CHARS - 4] + '..."'
    return rendered


def field_path(location: Sequence[str | int]) -> str:
    """``("body", "filters", "doc_ids", 3)`` -> ``filters.doc_ids[3]``; odd keys are escaped."""
    source, *rest = location or ("body",)
    if source == "body":
        return _dotted(rest) or "body"
    if source in {"path", "query", "header", "cookie"}:
        return f"{source} parameter {_dotted(rest)}"
    return _dotted(location)


def _dotted(parts: Sequence[str | int]) -> str:
    """Join keys with dots and indexes in brackets; client-chosen keys are shortened and escaped."""
    rendered = ""
    for part in parts:
        if isinstance(part, int):
            rendered += f"[{part}]"
            continue
        name = str(part)
        if not (name.isascii() and name.isidentifier() and len(name) <= FIELD_NAME_MAX_CHARS):
            name = json.dumps(name[:FIELD_NAME_MAX_CHARS], ensure_ascii=True)
        rendered += f".{name}" if rendered else name
    return rendered


_RULES_WITHOUT_INPUT = frozenset({"missing", "extra_forbidden", "json_invalid"})


def describe_validation_error(error: Mapping[str, Any], path: str = "/query") -> str:
    """One ``field: rule (got excerpt)`` phrase for a pydantic error dict of a request to ``path``."""
    kind = str(error.get("type", ""))
    context: Mapping[str, Any] = error.get("ctx") or {}
    location = tuple(error.get("loc", ()))
    rule = _rule_text(kind, context, str(error.get("msg", "")))
    if location in {("body",), ()} and kind == "missing":
        rule = f"required; {body_example(path)}"
    phrase = f"{field_path(location)}: {rule}"
    if kind in {"too_long", "too_short"} and "actual_length" in context:
        # A count, not an excerpt of the list: "100 items at most, 150 sent" says what to do.
        phrase += f" ({context['actual_length']} were sent)"
    elif kind not in _RULES_WITHOUT_INPUT and "input" in error:
        phrase += f" (got {excerpt(error['input'])})"
    return phrase


def describe_validation_errors(errors: Sequence[Mapping[str, Any]], path: str = "/query") -> str:
    """All errors of a request to ``path`` as one message, the first ``MAX_REPORTED_ERRORS`` spelled out."""
    phrases = [describe_validation_error(error, path) for error in errors[:MAX_REPORTED_ERRORS]]
    if len(errors) > MAX_REPORTED_ERRORS:
        phrases.append(f"and {len(errors) - MAX_REPORTED_ERRORS} more")
    return "; ".join(phrases) or "the request is invalid"


def _rule_text(kind: str, context: Mapping[str, Any], pydantic_message: str) -> str:
    """The broken rule in words; pydantic's own message only as an escaped last resort."""
    simple = {
        "missing": "required",
        "extra_forbidden": "unknown field; remove it (the request schema is at /docs)",
        "string_type": "must be a string",
        "int_type": "must be an integer",
        "float_type": "must be a number",
        "bool_type": "must be true or false",
        "list_type": "must be an array",
        "model_type": "must be a JSON object",
        "model_attributes_type": "must be a JSON object",
        "dict_type": "must be a JSON object",
    }
    if kind in simple:
        return simple[kind]
    if kind in {"literal_error", "enum"}:
        return f"must be one of {context.get('expected', 'the documented values')}"
    if kind == "value_error":
        return str(context.get("error", pydantic_message))
    bounds = {
        "string_too_short": ("must be at least {} characters", "min_length"),
        "string_too_long": ("must be at most {} characters", "max_length"),
        "too_short": ("must have at least {} items", "min_length"),
        "too_long": ("must have at most {} items", "max_length"),
        "greater_than_equal": ("must be at least {}", "ge"),
        "greater_than": ("must be greater than {}", "gt"),
        "less_than_equal": ("must be at most {}", "le"),
        "less_than": ("must be less than {}", "lt"),
    }
    if kind in bounds and bounds[kind][1] in context:
        template, key = bounds[kind]
        return template.format(context[key])
    return json.dumps(pydantic_message[:120], ensure_ascii=True)[1:-1]
