"""API keys (route x credential matrix), key hygiene, CORS, and the refusal to serve openly."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from grounded.cli import main as grounded_main
from service import server
from service.app import create_app
from service.auth import key_matches, presented_key
from service.settings import Settings, load_settings
from tests.support.fakes import ORCHARD, FakeEngine, alternating_reloader

QUERY_KEY = "query-key-5f1c2a9e7b3d4c8a"
ADMIN_KEY = "admin-key-0b9d8e7f6a5c4b3a"
WRONG_KEY = "wrong-key-0000000000000000"
LOOPBACK = ("127.0.0.1", 40000)
REMOTE = ("203.0.113.7", 40000)

CREDENTIALS: dict[str, dict[str, str]] = {
    "none": {},
    "query-bearer": {"Authorization": f"Bearer {QUERY_KEY}"},
    "query-header": {"X-API-Key": QUERY_KEY},
    "admin": {"Authorization": f"Bearer {ADMIN_KEY}"},
    "wrong": {"Authorization": f"Bearer {WRONG_KEY}"},
}
ROUTES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "health": ("GET", "/health", None),
    "ready": ("GET", "/ready", None),
    "page": ("GET", "/", None),
    "openapi": ("GET", "/openapi.json", None),
    "query": ("POST", "/query", {"question": "Who chairs the orchard cooperative?"}),
    "check": ("POST", "/check", {"answer": {"text": "Maria Okafor chairs the cooperative."}}),
    "documents": ("GET", "/documents", None),
    "document": ("GET", f"/documents/{ORCHARD.doc_id}", None),
    "metrics": ("GET", "/metrics", None),
    "reload": ("POST", "/admin/reload", None),
    "no-route": ("GET", "/no/such/route", None),
}
PUBLIC = {"health", "ready", "page", "openapi"}
DATA = {"query", "check", "documents", "document", "metrics"}

# Expected status per configuration, route and credential, for a client on a remote address.
BOTH_KEYS: dict[str, dict[str, int]] = {
    **{route: dict.fromkeys(CREDENTIALS, 200) for route in PUBLIC},
    **{
        route: {"none": 401, "query-bearer": 200, "query-header": 200, "admin": 200, "wrong": 401}
        for route in DATA
    },
    "reload": {"none": 401, "query-bearer": 403, "query-header": 403, "admin": 200, "wrong": 401},
    "no-route": {"none": 401, "query-bearer": 404, "query-header": 404, "admin": 404, "wrong": 401},
}
NO_KEYS: dict[str, dict[str, int]] = {
    **{route: dict.fromkeys(CREDENTIALS, 200) for route in PUBLIC | DATA},
    # No admin key: admin routes answer loopback clients only.
    "reload": dict.fromkeys(CREDENTIALS, 403),
    "no-route": dict.fromkeys(CREDENTIALS, 404),
}
QUERY_KEY_ONLY: dict[str, dict[str, int]] = {
    **BOTH_KEYS,
    **{
        route: {"none": 401, "query-bearer": 200, "query-header": 200, "admin": 401, "wrong": 401}
        for route in DATA
    },
    "reload": {"none": 401, "query-bearer": 403, "query-header": 403, "admin": 401, "wrong": 401},
    "no-route": {"none": 401, "query-bearer": 404, "query-header": 404, "admin": 401, "wrong": 401},
}
ADMIN_KEY_ONLY: dict[str, dict[str, int]] = {
    **NO_KEYS,
    "reload": {"none": 401, "query-bearer": 401, "query-header": 401, "admin": 200, "wrong": 401},
}
CONFIGURATIONS: dict[str, tuple[dict[str, Any], dict[str, dict[str, int]]]] = {
    "both-keys": ({"api_key": QUERY_KEY, "admin_key": ADMIN_KEY}, BOTH_KEYS),
    "no-keys": ({}, NO_KEYS),
    "query-key-only": ({"api_key": QUERY_KEY}, QUERY_KEY_ONLY),
    "admin-key-only": ({"admin_key": ADMIN_KEY}, ADMIN_KEY_ONLY),
}


def make_app(tmp_path: Path, engine: FakeEngine | None = None, **overrides: Any) -> Any:
    settings = load_settings(index_dir=tmp_path, **overrides)
    engine = engine or FakeEngine()
    other = FakeEngine(index_version="fake-index-0002")
    return create_app(settings, engine_loader=lambda s: engine, engine_reloader=alternating_reloader(engine, other))


def call(client: TestClient, route: str, credential: str) -> Any:
    method, path, body = ROUTES[route]
    return client.request(method, path, json=body, headers=CREDENTIALS[credential])


def assert_refusal(response: Any, status: int) -> None:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == {401: "unauthorized", 403: "forbidden"}[status]
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    for key in (QUERY_KEY, ADMIN_KEY, WRONG_KEY):
        assert key not in response.text


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_auth_matrix(tmp_path: Path, configuration: str) -> None:
    overrides, expected = CONFIGURATIONS[configuration]
    with TestClient(make_app(tmp_path, **overrides), client=REMOTE) as client:
        for route in ROUTES:
            for credential in CREDENTIALS:
                response = call(client, route, credential)
                want = expected[route][credential]
                assert response.status_code == want, (route, credential, response.text)
                if want in {401, 403}:
                    assert_refusal(response, want)


@pytest.mark.parametrize(
    ("overrides", "credential", "status"),
    [
        ({}, "none", 200),  # no keys at all: an operator on the machine can reload
        ({"api_key": QUERY_KEY}, "none", 401),  # the query key is still needed
        ({"api_key": QUERY_KEY}, "query-bearer", 200),
        ({"api_key": QUERY_KEY, "admin_key": ADMIN_KEY}, "query-bearer", 403),  # loopback is no key
        ({"api_key": QUERY_KEY, "admin_key": ADMIN_KEY}, "admin", 200),
    ],
)
def test_admin_routes_from_loopback(tmp_path: Path, overrides: dict[str, Any], credential: str, status: int) -> None:
    with TestClient(make_app(tmp_path, **overrides), client=LOOPBACK) as client:
        assert call(client, "reload", credential).status_code == status


def test_metrics_can_be_made_public(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, api_key=QUERY_KEY, metrics_public=True), client=REMOTE) as client:
        assert client.get("/metrics").status_code == 200
        assert call(client, "query", "none").status_code == 401


def test_refusals_are_counted_by_route(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, api_key=QUERY_KEY), client=REMOTE) as client:
        call(client, "query", "wrong")
        text = client.get("/metrics", headers=CREDENTIALS["query-header"]).text
    assert 'route="/query",status="401"' in text


def test_unauthenticated_bodies_are_not_read(tmp_path: Path) -> None:
    # Refused before the body limit and the JSON parser: a 401, not a 413 or a 400.
    with TestClient(make_app(tmp_path, api_key=QUERY_KEY), client=REMOTE) as client:
        too_big = client.post("/query", content=b"x" * 200_000, headers={"Content-Type": "application/json"})
        malformed = client.post("/query", content=b"{", headers={"Content-Type": "application/json"})
    assert too_big.status_code == malformed.status_code == 401


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], None),
        ([(b"authorization", b"Bearer abc")], "abc"),
        ([(b"authorization", b"bearer   abc  ")], "abc"),
        ([(b"authorization", b"Basic abc")], None),
        ([(b"authorization", b"Bearer")], None),
        ([(b"x-api-key", b"def")], "def"),
        ([(b"x-api-key", b"")], None),
        ([(b"authorization", b"Basic abc"), (b"x-api-key", b"def")], "def"),
        ([(b"x-api-key", b"def"), (b"authorization", b"Bearer abc")], "abc"),
    ],
)
def test_presented_key(headers: list[tuple[bytes, bytes]], expected: str | None) -> None:
    assert presented_key(headers) == expected


def test_key_comparison() -> None:
    key = SecretStr(QUERY_KEY)
    assert key_matches(QUERY_KEY, key)
    assert not key_matches(QUERY_KEY[:-1], key)
    assert not key_matches(QUERY_KEY + "x", key)
    assert not key_matches(None, key)
    assert not key_matches(QUERY_KEY, None)
    assert not key_matches("\udcff", key)  # a header that decodes oddly must not crash the check


def test_basic_scheme_is_not_a_key(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, api_key=QUERY_KEY), client=REMOTE) as client:
        response = client.get("/documents", headers={"Authorization": f"Basic {QUERY_KEY}"})
    assert response.status_code == 401


def test_empty_key_setting_means_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDED_API_KEY", "")
    assert load_settings().api_key is None


def test_keys_never_reach_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = FakeEngine()
    settings = load_settings(index_dir=tmp_path, api_key=QUERY_KEY, admin_key=ADMIN_KEY)
    # Reloads keep this engine, so the crash below happens on it.
    app = create_app(settings, engine_loader=lambda s: engine, engine_reloader=lambda current: current)
    with caplog.at_level(logging.DEBUG), TestClient(app, client=REMOTE, raise_server_exceptions=False) as client:
        for credential in CREDENTIALS:
            for route in ROUTES:
                call(client, route, credential)
        engine.fail_with = RuntimeError("engine bug")
        crashed = client.post("/query", json={"question": "lighthouse"}, headers=CREDENTIALS["admin"])
    assert crashed.status_code == 500
    assert "engine bug" in caplog.text  # the crash was logged ...
    for key in (QUERY_KEY, ADMIN_KEY, WRONG_KEY):
        assert key not in caplog.text  # ... and no key with it
        assert key not in repr(app.state.settings)


def test_openapi_describes_the_keys_only_when_set(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        assert "securitySchemes" not in client.get("/openapi.json").json().get("components", {})
    with TestClient(make_app(tmp_path, api_key=QUERY_KEY, admin_key=ADMIN_KEY)) as client:
        schema = client.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"bearer", "apiKeyHeader"}
    assert schema["paths"]["/query"]["post"]["security"] == [{"bearer": []}, {"apiKeyHeader": []}]
    assert schema["paths"]["/admin/reload"]["post"]["security"]
    assert "security" not in schema["paths"]["/health"]["get"]


# --- CORS ----------------------------------------------------------------------------------------

ORIGIN = "https://news.example"


@pytest.fixture
def cors_client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, cors_origins=[ORIGIN], api_key=QUERY_KEY)) as client:
        yield client


def preflight(client: TestClient, origin: str, headers: str = "content-type,authorization") -> Any:
    return client.options(
        "/query",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers},
    )


def test_cors_preflight_from_an_allowed_origin(cors_client: TestClient) -> None:
    response = preflight(cors_client, ORIGIN)  # no key: browsers send preflights without one
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_cors_preflight_refusal_is_in_the_error_shape(cors_client: TestClient) -> None:
    response = preflight(cors_client, "https://evil.example")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "cors_rejected"
    assert "access-control-allow-origin" not in response.headers
    assert preflight(cors_client, ORIGIN, "x-evil").json()["error"]["code"] == "cors_rejected"


def test_cors_headers_on_refusals_too(cors_client: TestClient) -> None:
    # A page must be able to read the 401 to tell its user that a key is needed.
    response = cors_client.post("/query", json={"question": "q"}, headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_cors_off_by_default(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        simple = client.get("/health", headers={"Origin": ORIGIN})
        refused_preflight = preflight(client, ORIGIN)
    assert "access-control-allow-origin" not in simple.headers
    assert refused_preflight.status_code == 405  # no CORS: OPTIONS is just a method /query lacks
    assert refused_preflight.json()["error"]["code"] == "method_not_allowed"


# --- grounded serve: no open service on a public address by accident ----------------------------


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """Replace the part of ``serve`` that loads the model and runs uvicorn; record its settings."""
    runs: list[Settings] = []

    def run(settings: Settings, started: float) -> int:
        runs.append(settings)
        return 0

    monkeypatch.setattr(server, "_run", run)
    for name in ("GROUNDED_API_KEY", "GROUNDED_ADMIN_KEY", "GROUNDED_HOST"):
        monkeypatch.delenv(name, raising=False)
    return runs


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "news.example"])
def test_public_host_without_key_refuses_to_start(
    tmp_path: Path, fake_run: list[Settings], capsys: pytest.CaptureFixture[str], host: str
) -> None:
    assert grounded_main(["serve", "--index", str(tmp_path), "--host", host]) == 2
    assert "--insecure" in capsys.readouterr().err
    assert fake_run == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_host_starts_without_key(tmp_path: Path, fake_run: list[Settings], host: str) -> None:
    assert grounded_main(["serve", "--index", str(tmp_path), "--host", host]) == 0
    assert fake_run[0].host == host


def test_public_host_starts_with_a_key_or_insecure(
    tmp_path: Path, fake_run: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert grounded_main(["serve", "--index", str(tmp_path), "--host", "0.0.0.0", "--insecure"]) == 0
    monkeypatch.setenv("GROUNDED_API_KEY", QUERY_KEY)
    assert grounded_main(["serve", "--index", str(tmp_path), "--host", "0.0.0.0"]) == 0
    assert [settings.api_key is not None for settings in fake_run] == [False, True]
