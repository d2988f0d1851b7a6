"""``GET /documents/{doc_id}`` with doc_ids that hold slashes (ingest names documents by their path)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import load_settings
from tests.support.fakes import FAKE_DOCUMENTS, FakeDocument, FakeEngine, running_server

GUIDE = FakeDocument(
    doc_id="guide/install", title="Installation", source="guide/install.md",
    text="Install the package with pip. Then create a virtual environment for the project first.",
)
DEEP = FakeDocument(
    doc_id="api/v2/errors.en", title="Errors", source="api/v2/errors.en.md",
    text="Every error has a code and a message. The message says what to change.",
)
DOCUMENTS = (*FAKE_DOCUMENTS, GUIDE, DEEP)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(load_settings(index_dir=tmp_path), engine_loader=lambda settings: FakeEngine(DOCUMENTS))
    with TestClient(app) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/documents/guide/install", "/documents/guide%2Finstall",
                                  "/documents/guide%2finstall"])
def test_a_doc_id_with_a_slash_is_found_plain_or_encoded(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.json()["doc_id"] == GUIDE.doc_id
    assert response.json()["text"] == GUIDE.text


def test_every_listed_document_opens_by_its_encoded_id(client: TestClient) -> None:
    from urllib.parse import quote

    listed = [summary["doc_id"] for summary in client.get("/documents").json()]
    assert {GUIDE.doc_id, DEEP.doc_id} <= set(listed)
    for doc_id in listed:
        # What the page sends: encodeURIComponent(docId), which encodes "/" as %2F.
        response = client.get("/documents/" + quote(doc_id, safe=""))
        assert response.status_code == 200, doc_id
        assert response.json()["doc_id"] == doc_id


def test_an_unknown_slashed_id_is_an_unknown_document(client: TestClient) -> None:
    response = client.get("/documents/guide/missing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_document"
    assert '"guide/missing"' in response.json()["error"]["message"]


@pytest.mark.parametrize(("path", "location"), [("/documents/", "/documents"),
                                                ("/documents/guide/install/", "/documents/guide/install")])
def test_a_trailing_slash_still_redirects(client: TestClient, path: str, location: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"].endswith(location)


def test_a_leading_slash_matches_no_route(client: TestClient) -> None:
    response = client.get("/documents//guide/install")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_metrics_and_openapi_keep_the_plain_template(client: TestClient) -> None:
    client.get("/documents/guide/install")
    assert 'route="/documents/{doc_id}",status="200"' in client.get("/metrics").text
    assert "/documents/{doc_id}" in client.get("/openapi.json").json()["paths"]


def test_the_page_fetches_documents_by_their_encoded_id(client: TestClient) -> None:
    assert 'fetchJson("/documents/" + encodeURIComponent(docId))' in client.get("/").text


def test_a_real_server_decodes_an_encoded_slash(tmp_path: Path) -> None:
    app = create_app(load_settings(index_dir=tmp_path), engine_loader=lambda settings: FakeEngine(DOCUMENTS))
    with running_server(app) as base_url:
        response = httpx.get(f"{base_url}/documents/guide%2Finstall", timeout=10)
    assert response.status_code == 200
    assert response.json()["doc_id"] == GUIDE.doc_id
