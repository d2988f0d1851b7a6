"""PDF pages through the service: citations, passages and evidence carry their pages; one page on request."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mcp import Client

from index.build import ingest
from ingest.embedding import HashingEmbedder
from service.app import create_app
from service.engine import load_engine
from service.mcp_server import build_mcp_server
from service.server import hand_over
from service.settings import load_settings
from tests.support.mcp_client import backend_for, error_text, in_process, structured
from tests.support.pdf_files import make_pdf

PAGES = [
    ["Harbour Gazette", "The lighthouse keeper retired in March after forty years on the rock.", "- 1 -"],
    ["Harbour Gazette", "The new lamp of the lighthouse was lit by the mayor on Friday evening.", "- 2 -"],
    ["Harbour Gazette", "Ferries to the island will run twice a day from the first of June.", "- 3 -"],
    ["Harbour Gazette", "Fishermen said the catch of herring was the best in a decade.", "- 4 -"],
]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "gazette.pdf").write_bytes(make_pdf(PAGES))
    (corpus / "notes.txt").write_text("The orchard flowered early in a warm March this year.\n", encoding="utf-8")
    ingest([corpus], tmp_path / "index", HashingEmbedder())
    engine = load_engine(tmp_path / "index")
    with TestClient(create_app(load_settings(index_dir=tmp_path / "index"), engine_loader=hand_over(engine))) as test:
        yield test
    gc.unfreeze()  # loading froze the process's objects; give them back to the collector


def test_citations_and_passages_name_their_pages(client: TestClient) -> None:
    body = client.post("/query", json={"question": "Who lit the new lamp of the lighthouse?"}).json()
    text = client.get("/documents/gazette").json()["text"]
    [citation] = [c for c in body["answer"]["citations"] if c["doc_id"] == "gazette"]
    assert citation["text"].startswith("The new lamp") and citation["pages"] == [2]
    assert text[citation["start_char"]:citation["end_char"]] == citation["text"]
    for passage in body["passages"]:
        where = passage["citation"]
        if where["doc_id"] == "gazette":
            assert where["pages"] and "Gazette" not in passage["text"]
        else:
            assert "pages" not in where  # a document without pages: the wire body is unchanged


def test_one_page_of_a_document_and_where_it_lies(client: TestClient) -> None:
    whole = client.get("/documents/gazette").json()
    assert [span["page"] for span in whole["pages"]] == [1, 2, 3, 4]
    page = client.get("/documents/gazette", params={"page": 3}).json()
    span = page["page"]
    assert page["text"] == whole["text"][span["start_char"]:span["end_char"]]
    assert "Ferries to the island" in page["text"] and "lighthouse" not in page["text"]
    assert "pages" not in client.get("/documents/notes").json()


@pytest.mark.parametrize(("path", "page", "status", "code"), [
    ("/documents/gazette", 5, 404, "unknown_page"),
    ("/documents/notes", 1, 404, "unknown_page"),
    ("/documents/gazette", 0, 422, "invalid_request"),
])
def test_a_page_the_document_does_not_have(client: TestClient, path: str, page: int, status: int, code: str) -> None:
    response = client.get(path, params={"page": page})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_check_evidence_names_its_page(client: TestClient) -> None:
    text = client.get("/documents/gazette").json()["text"]
    sentence = "Fishermen said the catch of herring was the best in a decade."
    start = text.index(sentence)
    body = {"answer": {"text": sentence, "citations": [
        {"doc_id": "gazette", "start_char": start, "end_char": start + len(sentence)}]}}
    [verdict] = client.post("/check", json=body).json()["sentences"]
    assert verdict["evidence"]["pages"] == [4]


def test_the_python_api_and_the_mcp_tool_read_one_page(tmp_path: Path) -> None:
    import grounded

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "gazette.pdf").write_bytes(make_pdf(PAGES))
    ingest([corpus], tmp_path / "index", HashingEmbedder())
    index = grounded.open_index(tmp_path / "index", embedder=HashingEmbedder())
    page = index.document("gazette", page=3)
    assert page.page is not None and "Ferries to the island" in page.text and "lighthouse" not in page.text
    engine = load_engine(tmp_path / "index")
    span = page.page

    async def session(client: Client) -> None:
        excerpt = structured(await client.call_tool("get_document", {"doc_id": "gazette", "page": 3}))
        assert excerpt["text"] == page.text
        assert (excerpt["start_char"], excerpt["end_char"]) == (span.start_char, span.end_char)
        missing = await client.call_tool("get_document", {"doc_id": "gazette", "page": 9})
        assert "page 9 is not a page of 'gazette'" in error_text(missing)

    in_process(build_mcp_server(backend_for(engine)), session)
    gc.unfreeze()
