"""The HTTP contract of the query service, against a fake engine (no model, no index)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from ranking import Answer, Citation
from service.app import create_app
from service.engine_protocol import QueryEngineProtocol
from service.mapping import UNSTATED_ABSTENTION_REASON, to_query, to_response
from service.records import Passage, Query, QueryResult, Timings
from service.reload import WARM_UP_QUERY
from service.schemas import DocumentDetail, QueryRequest, QueryResponse
from service.settings import Settings, load_settings
from tests.support.fakes import FAKE_DOCUMENTS, LIGHTHOUSE, ORCHARD, FakeEngine

ANSWERED = "How far does the lighthouse beam reach at night?"
UNANSWERABLE = "What is the capital of Peru?"
# Retrieves lighthouse passages, but no sentence shares two content words with it.
RETRIEVED_NOT_ANSWERED = "lighthouse weather"

# The wire contract, written out by hand: other tools read exactly these names.
CONTRACT_KEYS: dict[str, set[str]] = {
    "response": {"question", "answer", "abstention", "passages", "index_version", "timings_ms", "ranker"},
    # Optional, only in answers to "answer_mode": "generative" (issue 13; additive).
    "generative_response": {"answer_mode", "fallback_reason", "sentences"},
    "answer": {"text", "citations"},
    "answer_citation": {"doc_id", "start_char", "end_char", "text", "passage_rank"},
    "abstention": {"reason"},
    "passage": {"rank", "score", "text", "citation"},
    "passage_citation": {"doc_id", "title", "source", "chunk_id", "start_char", "end_char"},
    "timings_ms": {"embed", "search", "rescore", "answer", "total"},
    # answer_mode and stream: additive, optional (issue 13); an extractive response keeps its keys.
    "request": {"question", "top_k", "mode", "filters", "answer_mode", "stream"},
    "filters": {"doc_ids"},
    "document_summary": {"doc_id", "title", "source", "chunk_count"},
    "document_detail": {"doc_id", "title", "source", "chunk_count", "text"},
    # Optional, only for documents with pages (PDF; issue 25, additive): citations and passages
    # name their pages, a document lists where its pages lie, and ?page=N returns one.
    "paged_citation": {"pages"},
    "paged_document_detail": {"pages", "page"},
}


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings that never read a real index folder."""
    return load_settings(index_dir=tmp_path / "index", **overrides)


@pytest.fixture
def engine() -> FakeEngine:
    return FakeEngine()


@pytest.fixture
def client(tmp_path: Path, engine: FakeEngine) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path), engine_loader=lambda settings: engine)
    with TestClient(app) as test_client:
        yield test_client


def assert_grounded(client: TestClient, body: dict[str, Any]) -> None:
    """Every passage and citation is exactly the document text at its offsets."""
    texts: dict[str, str] = {}

    def text_of(doc_id: str) -> str:
        if doc_id not in texts:
            response = client.get(f"/documents/{doc_id}")
            assert response.status_code == 200
            texts[doc_id] = response.json()["text"]
        return texts[doc_id]

    ranks = [passage["rank"] for passage in body["passages"]]
    assert ranks == list(range(1, len(ranks) + 1))
    for passage in body["passages"]:
        where = passage["citation"]
        assert text_of(where["doc_id"])[where["start_char"] : where["end_char"]] == passage["text"]
    if body["answer"] is not None:
        for citation in body["answer"]["citations"]:
            document_text = text_of(citation["doc_id"])
            assert document_text[citation["start_char"] : citation["end_char"]] == citation["text"]
            assert citation["passage_rank"] in ranks


@pytest.mark.parametrize("mode", ["hybrid", "dense", "sparse"])
@pytest.mark.parametrize("question", [ANSWERED, "Who chairs the orchard cooperative?", UNANSWERABLE])
def test_query_contract_holds(client: TestClient, mode: str, question: str) -> None:
    response = client.post("/query", json={"question": question, "mode": mode, "top_k": 3})
    assert response.status_code == 200
    body = response.json()
    QueryResponse.model_validate(body)
    assert set(body) == CONTRACT_KEYS["response"]
    assert body["question"] == question
    assert body["index_version"] == "fake-index-0001"
    assert set(body["timings_ms"]) == CONTRACT_KEYS["timings_ms"]
    assert len(body["passages"]) <= 3
    assert (body["answer"] is None) != (body["abstention"] is None)
    assert_grounded(client, body)


def test_answer_cites_the_sentence_and_passages_sit_in_their_documents(client: TestClient) -> None:
    body = client.post("/query", json={"question": ANSWERED}).json()
    assert body["answer"] is not None
    citation = body["answer"]["citations"][0]
    assert set(citation) == CONTRACT_KEYS["answer_citation"]
    assert citation["doc_id"] == LIGHTHOUSE.doc_id
    assert "beam" in citation["text"]
    # Offsets count code points: the emoji earlier in the text is one character, not two.
    assert LIGHTHOUSE.text[citation["start_char"] : citation["end_char"]] == citation["text"]
    passage = body["passages"][0]
    assert set(passage) == CONTRACT_KEYS["passage"]
    assert set(passage["citation"]) == CONTRACT_KEYS["passage_citation"]
    assert passage["citation"]["title"] == LIGHTHOUSE.title
    assert body["abstention"] is None


def test_abstention_has_null_answer_and_a_reason(client: TestClient) -> None:
    body = client.post("/query", json={"question": UNANSWERABLE}).json()
    assert body["answer"] is None
    assert set(body["abstention"]) == CONTRACT_KEYS["abstention"]
    assert body["abstention"]["reason"]
    assert body["passages"] == []


def test_abstention_can_still_return_passages(client: TestClient) -> None:
    body = client.post("/query", json={"question": RETRIEVED_NOT_ANSWERED}).json()
    assert body["answer"] is None
    assert "content words" in body["abstention"]["reason"]
    assert body["passages"]
    assert_grounded(client, body)


def test_request_fields_reach_the_engine(client: TestClient, engine: FakeEngine) -> None:
    response = client.post(
        "/query",
        json={
            "question": "  lighthouse lens  ",
            "top_k": 2,
            "mode": "sparse",
            "filters": {"doc_ids": [LIGHTHOUSE.doc_id]},
        },
    )
    assert response.status_code == 200
    assert engine.queries[-1] == Query(question="lighthouse lens", top_k=2, mode="sparse", doc_ids=(LIGHTHOUSE.doc_id,))
    assert {p["citation"]["doc_id"] for p in response.json()["passages"]} == {LIGHTHOUSE.doc_id}


def test_tab_and_newline_are_allowed_in_a_question(client: TestClient) -> None:
    response = client.post("/query", json={"question": "lighthouse\tbeam\nnight"})
    assert response.status_code == 200


def test_lifespan_loads_once_and_warms_up(tmp_path: Path) -> None:
    calls: list[Settings] = []
    engine = FakeEngine()

    def loader(settings: Settings) -> QueryEngineProtocol:
        calls.append(settings)
        return engine

    settings = make_settings(tmp_path)
    app = create_app(settings, engine_loader=loader)
    assert calls == []  # nothing is loaded before start-up
    with TestClient(app) as test_client:
        assert calls == [settings]
        assert engine.queries == [WARM_UP_QUERY]
        assert test_client.get("/ready").json() == {
            "status": "ready",
            "index_version": "fake-index-0001",
        }
        test_client.get("/health")
    assert len(calls) == 1


def test_startup_logs_ready_time(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(make_settings(tmp_path), engine_loader=lambda settings: FakeEngine())
    with caplog.at_level("INFO", logger="service.app"), TestClient(app):
        pass
    assert re.search(r"ready in \d+\.\d\d s", caplog.text)


def test_loader_failure_fails_startup(tmp_path: Path) -> None:
    def broken_loader(settings: Settings) -> QueryEngineProtocol:
        raise FileNotFoundError("no index at var/index: run grounded ingest")

    app = create_app(make_settings(tmp_path), engine_loader=broken_loader)
    with pytest.raises(FileNotFoundError, match="grounded ingest"), TestClient(app):
        pass


def test_warm_up_failure_fails_startup(tmp_path: Path) -> None:
    engine = FakeEngine(fail_with=RuntimeError("model weights missing"))
    app = create_app(make_settings(tmp_path), engine_loader=lambda settings: engine)
    with pytest.raises(RuntimeError, match="model weights missing"), TestClient(app):
        pass


def test_not_ready_before_startup(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), engine_loader=lambda settings: FakeEngine())
    # Without the context manager TestClient does not run the lifespan: the engine never loads.
    test_client = TestClient(app)
    assert test_client.get("/health").json() == {"status": "ok"}
    for response in (
        test_client.get("/ready"),
        test_client.post("/query", json={"question": ANSWERED}),
        test_client.get("/documents"),
    ):
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "not_ready"
        assert response.headers["retry-after"]


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_documents_list_and_detail(client: TestClient) -> None:
    listing = client.get("/documents").json()
    assert [entry["doc_id"] for entry in listing] == sorted(d.doc_id for d in FAKE_DOCUMENTS)
    for entry in listing:
        assert set(entry) == CONTRACT_KEYS["document_summary"]
        assert entry["chunk_count"] > 0
    detail = client.get(f"/documents/{ORCHARD.doc_id}").json()
    assert set(detail) == CONTRACT_KEYS["document_detail"]
    assert detail["text"] == ORCHARD.text
    assert detail["title"] == ORCHARD.title


def test_unknown_document_is_404_in_error_shape(client: TestClient) -> None:
    response = client.get("/documents/no-such-doc")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "unknown_document"
    assert "GET /documents" in error["message"]


def test_process_time_header(client: TestClient) -> None:
    for response in (client.get("/health"), client.post("/query", json={"question": ANSWERED})):
        assert float(response.headers["x-process-time-ms"]) >= 0


def test_metrics_count_routes_stages_and_index(client: TestClient) -> None:
    client.post("/query", json={"question": ANSWERED})
    client.get(f"/documents/{LIGHTHOUSE.doc_id}")
    client.get("/documents/unknown")
    client.get("/not-a-route")
    text = client.get("/metrics").text
    assert 'grounded_http_requests_total{method="POST",route="/query",status="200"} 1.0' in text
    assert 'route="/documents/{doc_id}",status="200"' in text
    assert 'route="/documents/{doc_id}",status="404"' in text
    assert 'route="<unmatched>",status="404"' in text
    assert "/not-a-route" not in text  # raw paths never become labels
    assert 'grounded_http_request_duration_seconds_bucket{le="0.005",method="POST"' in text
    for stage in ("embed", "search", "rescore", "answer", "total"):
        assert f'grounded_query_stage_duration_seconds_count{{stage="{stage}"}} 1.0' in text
    assert 'grounded_index_info{index_version="fake-index-0001"} 1.0' in text
    assert 'grounded_query_results_total{cached="false",outcome="answered"} 1.0' in text
    assert "grounded_ready 1.0" in text


def test_each_app_has_its_own_metrics(tmp_path: Path) -> None:
    first = create_app(make_settings(tmp_path), engine_loader=lambda settings: FakeEngine())
    second = create_app(make_settings(tmp_path), engine_loader=lambda settings: FakeEngine())
    with TestClient(first) as first_client, TestClient(second) as second_client:
        first_client.get("/health")
        assert 'route="/health"' not in second_client.get("/metrics").text


def test_product_page_is_self_contained(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    html = response.text
    assert '<textarea id="question"' in html
    assert not re.search(r"""(?:src|href|action)\s*=\s*["']?\s*(?:[a-z]+:)?//""", html, re.I)
    assert "<link" not in html
    assert "@import" not in html
    assert "url(" not in html
    # Document text only ever enters the page as text nodes.
    assert not re.search(r"(?:inner|outer)HTML\s*[+]?=|insertAdjacentHTML|document\.write", html)


def test_openapi_and_docs(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/query", "/health", "/ready", "/documents", "/documents/{doc_id}"} <= set(schema["paths"])
    request_schema = schema["components"]["schemas"]["QueryRequest"]
    assert set(request_schema["properties"]) == CONTRACT_KEYS["request"]
    assert request_schema["additionalProperties"] is False
    query_responses = schema["paths"]["/query"]["post"]["responses"]
    assert {"200", "400", "413", "415", "422", "503"} <= set(query_responses)
    assert client.get("/docs").status_code == 200


def test_cors_is_off_by_default(client: TestClient) -> None:
    response = client.get("/health", headers={"Origin": "https://example.org"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_configured_origins(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins=["https://example.org"])
    app = create_app(settings, engine_loader=lambda settings: FakeEngine())
    with TestClient(app) as test_client:
        allowed = test_client.get("/health", headers={"Origin": "https://example.org"})
        other = test_client.get("/health", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://example.org"
    assert "access-control-allow-origin" not in other.headers


# --- settings -----------------------------------------------------------------------------------


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INDEX_DIR", "HOST", "PORT", "MAX_BODY_BYTES", "THREADS", "CORS_ORIGINS"):
        monkeypatch.delenv(f"GROUNDED_{name}", raising=False)
    settings = load_settings()
    assert settings.index_dir == Path("var/index")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.max_body_bytes == 65536
    assert settings.threads == 1
    assert settings.cache_size == 256
    assert settings.api_key is None
    assert settings.cors_origins == []


def test_settings_read_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDED_PORT", "9123")
    monkeypatch.setenv("GROUNDED_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("GROUNDED_API_KEY", "s3cret-key")
    settings = load_settings(threads=2)
    assert settings.port == 9123
    assert settings.threads == 2
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert isinstance(settings.api_key, SecretStr)
    assert "s3cret-key" not in repr(settings)
    monkeypatch.setenv("GROUNDED_CORS_ORIGINS", '["https://c.example"]')
    assert load_settings().cors_origins == ["https://c.example"]
    # Keyword overrides beat the environment.
    assert load_settings(port=7000).port == 7000


def test_settings_reject_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDED_PORT", "not-a-port")
    with pytest.raises(ValidationError, match="port"):
        load_settings()
    monkeypatch.delenv("GROUNDED_PORT")
    with pytest.raises(ValidationError):
        load_settings(threads=0)
    with pytest.raises(ValidationError):
        load_settings(unknown_setting=1)


# --- mapping: the wire names are pinned, whatever the records call their fields ----------------


def _sample_result(*, answered: bool, reason: str | None = None) -> QueryResult:
    passage = Passage(
        rank=np.int64(1),  # type: ignore[arg-type]  # engines may hand over numpy scalars
        score=np.float32(0.75),  # type: ignore[arg-type]
        text="Its beam now reaches far.",
        doc_id="d1",
        title="Title",
        source="d1.txt",
        chunk_id="d1#0000",
        start=10,
        end=35,
    )
    citation = Citation(doc_id="d1", start=10, end=35, text=passage.text, passage_rank=1)
    answer = Answer(text=citation.text, citations=(citation,)) if answered else None
    return QueryResult(
        question="q?",
        answer=answer,
        abstention_reason=reason,
        passages=(passage,),
        index_version="v1",
        timings=Timings(embed=1.0, search=2.0, rescore=3.0, answer=4.0, total=10.0),
    )


def test_to_response_produces_exactly_the_contract_names() -> None:
    body = to_response(_sample_result(answered=True)).model_dump(mode="json")
    assert set(body) == CONTRACT_KEYS["response"]
    assert set(body["answer"]) == CONTRACT_KEYS["answer"]
    assert set(body["answer"]["citations"][0]) == CONTRACT_KEYS["answer_citation"]
    assert set(body["passages"][0]) == CONTRACT_KEYS["passage"]
    assert set(body["passages"][0]["citation"]) == CONTRACT_KEYS["passage_citation"]
    assert body["passages"][0]["citation"] == {
        "doc_id": "d1",
        "title": "Title",
        "source": "d1.txt",
        "chunk_id": "d1#0000",
        "start_char": 10,
        "end_char": 35,
    }
    assert body["answer"]["citations"][0]["start_char"] == 10
    assert body["timings_ms"] == {
        "embed": 1.0,
        "search": 2.0,
        "rescore": 3.0,
        "answer": 4.0,
        "total": 10.0,
    }
    assert body["abstention"] is None
    assert type(body["passages"][0]["rank"]) is int
    assert math.isclose(body["passages"][0]["score"], 0.75)


def test_schema_field_names_are_the_contract() -> None:
    schemas = QueryResponse.model_json_schema()["$defs"]
    response = QueryResponse.model_json_schema()
    assert set(response["properties"]) == CONTRACT_KEYS["response"] | CONTRACT_KEYS["generative_response"]
    assert not CONTRACT_KEYS["generative_response"] & set(response.get("required", []))
    assert set(schemas["AnswerBody"]["properties"]) == CONTRACT_KEYS["answer"]
    assert set(schemas["AnswerCitation"]["properties"]) == CONTRACT_KEYS["answer_citation"] | CONTRACT_KEYS[
        "paged_citation"]
    assert set(schemas["PassageBody"]["properties"]) == CONTRACT_KEYS["passage"]
    assert set(schemas["PassageCitation"]["properties"]) == CONTRACT_KEYS["passage_citation"] | CONTRACT_KEYS[
        "paged_citation"]
    for optional in ("AnswerCitation", "PassageCitation"):
        assert "pages" not in schemas[optional].get("required", [])
    detail = DocumentDetail.model_json_schema()
    assert set(detail["properties"]) == CONTRACT_KEYS["document_detail"] | CONTRACT_KEYS["paged_document_detail"]
    assert not CONTRACT_KEYS["paged_document_detail"] & set(detail.get("required", []))
    assert set(schemas["TimingsBody"]["properties"]) == CONTRACT_KEYS["timings_ms"]
    assert set(QueryRequest.model_json_schema()["properties"]) == CONTRACT_KEYS["request"]


def test_to_response_abstention_reason() -> None:
    stated = to_response(_sample_result(answered=False, reason="nothing relevant"))
    assert stated.answer is None
    assert stated.abstention is not None
    assert stated.abstention.reason == "nothing relevant"
    unstated = to_response(_sample_result(answered=False))
    assert unstated.abstention is not None
    assert unstated.abstention.reason == UNSTATED_ABSTENTION_REASON
    # An answer wins over a stray reason: abstention is set exactly when answer is null.
    assert to_response(_sample_result(answered=True, reason="ignored")).abstention is None


def test_to_query_maps_every_field() -> None:
    request = QueryRequest.model_validate(
        {"question": "q?", "top_k": 7, "mode": "dense", "filters": {"doc_ids": ["a", "b"]}}
    )
    assert to_query(request) == Query(question="q?", top_k=7, mode="dense", doc_ids=("a", "b"))
    defaults = QueryRequest.model_validate({"question": "q?"})
    assert to_query(defaults) == Query(question="q?", top_k=5, mode="hybrid", doc_ids=None)


def test_the_wire_modes_are_the_index_modes() -> None:
    from typing import get_args

    from index.records import Mode as IndexMode
    from service.schemas import Mode as WireMode

    # The schema keeps its own Literal on purpose; the two must not drift apart.
    assert get_args(WireMode) == get_args(IndexMode)
