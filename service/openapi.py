"""The OpenAPI document's additions: error response tables per route, and the configured keys."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service.schemas import ErrorResponse
from service.settings import Settings

PUBLIC_ROUTES = frozenset({"/", "/health", "/ready", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
"""Route templates anyone may call; every other path (including ones no route matches) needs the
query key when one is set, so a route added later is guarded until someone decides otherwise."""
ADMIN_ROUTE_PREFIX = "/admin/"


def error_response(description: str) -> dict[str, Any]:
    """A ``responses`` entry: the one error body shape with ``description``."""
    return {"model": ErrorResponse, "description": description}


UNAUTHORIZED = error_response("GROUNDED_API_KEY is set and the key is missing or wrong (code unauthorized).")
NOT_READY = error_response("Still starting (code not_ready), with Retry-After.")
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: error_response("The body is not valid JSON (code invalid_json)."),
    401: UNAUTHORIZED,
    404: error_response("filters.doc_ids names a document that is not indexed (code unknown_document)."),
    413: error_response("The body is larger than max_body_bytes (code payload_too_large)."),
    415: error_response("Content-Type is not application/json (code unsupported_media_type)."),
    422: error_response("A field breaks the schema (code invalid_request)."),
    503: error_response(
        "Still starting (not_ready), or every query slot is busy and the queue full or waited out "
        "(overloaded); both with Retry-After."
    ),
    504: error_response("The query ran past query_timeout_s (code query_timeout)."),
}
"""What ``POST /query`` can answer besides 200."""
QUERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    200: {"description": "The answer as JSON, or with \"stream\": true as server-sent events: 'delta' "
                         "events ({\"text\"}) of the generated text, then one 'result' event holding "
                         "the JSON body (or one 'error' event with the error body).",
          # One server-sent event (what schema-driven clients and testers validate each event with).
          "content": {"text/event-stream": {"schema": {
              "type": "object", "required": ["event", "data"],
              "properties": {
                  "event": {"type": "string", "enum": ["delta", "result", "error"]},
                  "data": {"type": "string", "contentMediaType": "application/json", "description": (
                      "delta: {\"text\"}; result: the QueryResponse; error: the ErrorResponse.")},
              }}}}},
}
"""``ERROR_RESPONSES`` plus the event stream of ``POST /query``."""
CHECK_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    404: error_response("answer.citations names a document that is not indexed (code unknown_document)."),
    422: error_response(
        "A field breaks the schema (code invalid_request), or a cited range lies outside its "
        "document's text (code invalid_citation)."
    ),
    504: error_response("The check ran past query_timeout_s (code query_timeout)."),
}
"""What ``POST /check`` can answer besides 200."""
ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: error_response(
        "GROUNDED_ADMIN_KEY (or, without it, GROUNDED_API_KEY) is set and the key is missing or wrong."),
    403: error_response(
        "The query key was sent where the admin key is needed, or no admin key is set and the "
        "client is not on loopback (code forbidden)."
    ),
    409: error_response(
        "The newest published version did not load; the old one is still served (code reload_failed)."),
    501: error_response("This server's engine cannot reload (code reload_unsupported)."),
    503: NOT_READY,
}
"""What the admin routes can answer besides 200."""


def document_security(app: FastAPI, settings: Settings) -> None:
    """Describe the configured keys in the OpenAPI schema (nothing when no key is set)."""
    if settings.api_key is None and settings.admin_key is None:
        return
    generate = app.openapi  # FastAPI's own generator; it caches its result in app.openapi_schema

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()  # now cached: the changes below are made once
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        either_key: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKeyHeader": []}]
        for path, operations in schema.get("paths", {}).items():
            guarded = path.startswith(ADMIN_ROUTE_PREFIX) or settings.api_key is not None
            if guarded and path not in PUBLIC_ROUTES:
                for operation in operations.values():
                    operation["security"] = either_key
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented customisation hook
