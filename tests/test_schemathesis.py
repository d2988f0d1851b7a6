"""Schemathesis against the service's own OpenAPI schema, in process (ASGI), every operation.

Checks: no 5xx, responses (bodies, status codes, content types) conform to the schema, every
error body is exactly ``{"error": {"code", "message"}}``, and no error body echoes more than
``MAX_ECHO`` characters of the request. Both positive and negative cases are generated. A second
app with API keys set checks that every operation declaring a key refuses requests without it.

The case count per operation comes from ``GROUNDED_SCHEMATHESIS_CASES`` (default 100, the fast
suite). The full run, at least 1,000 generated cases per operation:

    GROUNDED_SCHEMATHESIS_CASES=1000 .venv/bin/pytest tests/test_schemathesis.py -q

Not checked: ``positive_data_acceptance``. ``top_k`` is a strict integer on purpose (``5.0`` is
refused), while JSON Schema counts ``5.0`` as an integer, and no JSON Schema keyword can tell the
two apart; the schema is as honest as JSON Schema allows, and the 422 for ``5.0`` is tested in
``test_boundaries.py``. Likewise a schema-valid ``doc_id`` that is not indexed is a 404.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from service.app import create_app
from service.settings import load_settings
from tests.support.fakes import FakeEngine

CASES = int(os.environ.get("GROUNDED_SCHEMATHESIS_CASES", "100"))
MAX_ECHO = 100

APP = create_app(load_settings(index_dir=Path("unused-index")), engine_loader=lambda settings: FakeEngine())
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
# The same API with both keys set: its schema declares them, and every operation that declares a
# key must refuse a request without one or with a wrong one (schemathesis' ignored_auth probes).
ADMIN_KEY = "admin-key-for-schemathesis-5d2e"
KEYED_APP = create_app(
    load_settings(index_dir=Path("unused-index"), api_key="query-key-for-schemathesis-9f3b", admin_key=ADMIN_KEY),
    engine_loader=lambda settings: FakeEngine(),
    engine_reloader=lambda engine: engine,
)
KEYED_SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", KEYED_APP)
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
SETTINGS = hypothesis_settings(
    max_examples=CASES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


def _request_text(response: Any, case: Any) -> str:
    """Everything the client sent that a response could echo: path, query and body."""
    body = response.request.body if response.request is not None else None
    sent = body.decode("utf-8", "backslashreplace") if isinstance(body, bytes) else body or ""
    return f"{case.formatted_path} {json.dumps(case.query or {})} {sent}"


@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx body is exactly ``{"error": {"code": str, "message": str}}``."""
    if response.status_code < 400:
        return None
    body = json.loads(response.content)
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {response.text[:200]}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) == {"code", "message"}, f"not the error shape: {body}"
    assert isinstance(error["code"], str) and error["code"], body
    assert isinstance(error["message"], str) and error["message"], body
    return True


@schemathesis.check
def no_long_echo(ctx: Any, response: Any, case: Any) -> bool | None:
    """No error body repeats more than ``MAX_ECHO`` consecutive characters of the request."""
    if response.status_code < 400:
        return None
    text = response.text
    sent = _request_text(response, case)
    for start in range(max(0, len(text) - MAX_ECHO)):
        window = text[start : start + MAX_ECHO + 1]
        assert window not in sent, f"the error body echoes the request: {window!r}"
    return True


@SCHEMA.parametrize()
@SETTINGS
def test_api_conforms_to_its_schema(case: Any) -> None:
    case.call_and_validate(checks=[*CHECKS, error_shape, no_long_echo])


@KEYED_SCHEMA.parametrize()
@hypothesis_settings(SETTINGS, max_examples=max(CASES // 5, 10))
def test_api_with_keys_enforces_them(case: Any) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        checks=[*CHECKS, ignored_auth, error_shape, no_long_echo],
    )


def test_every_operation_is_covered() -> None:
    operations = set()
    for result in SCHEMA.get_all_operations():
        assert isinstance(result, Ok), result
        operations.add((result.ok().method.upper(), result.ok().path))
    assert operations == {
        ("GET", "/health"),
        ("GET", "/ready"),
        ("POST", "/query"),
        ("POST", "/check"),
        ("GET", "/documents"),
        ("GET", "/documents/{doc_id}"),
        ("POST", "/admin/reload"),
    }
