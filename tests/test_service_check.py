"""``POST /check``: the contract against the fake engine, and the real checker on a hashing index."""

from __future__ import annotations

import gc
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from grounding.records import LABELS, VERDICTS
from index.build import ingest
from ingest.embedding import HashingEmbedder
from service.app import create_app
from service.engine import QueryEngine, load_engine
from service.schemas import ANSWER_MAX_CHARS, CheckRequest, CheckResponse, Verdict, VerifierLabel
from service.server import hand_over
from service.settings import load_settings
from tests.support.fakes import LIGHTHOUSE, ORCHARD, FakeEngine, write_fake_corpus

BEAM = "Its beam now reaches twenty-two nautical miles on a clear night."
COST = "The restoration cost four million euros."
CONTRACT_KEYS: dict[str, set[str]] = {
    "request": {"answer", "question"},
    "answer": {"text", "citations"},
    "citation": {"doc_id", "start_char", "end_char"},
    "response": {"sentences", "supported_share"},
    "sentence": {"text", "start", "end", "verdict", "score", "evidence", "reasons"},
    # Left out of a sentence's body when unset: the rules' own verdict, the verifier's reading, both sides.
    "sentence_optional": {"rules_verdict", "verifier", "disagreement"},
    "evidence": {"doc_id", "start_char", "end_char", "text"},
    # Optional, only when the evidence lies in a document with pages (PDF; issue 25, additive).
    "paged_evidence": {"pages"},
    "reason": {"code", "message"},
}


def cite(text: str, doc_id: str = LIGHTHOUSE.doc_id, document_text: str = LIGHTHOUSE.text) -> dict[str, Any]:
    """A citation of the first occurrence of ``text`` in the document."""
    start = document_text.index(text)
    return {"doc_id": doc_id, "start_char": start, "end_char": start + len(text)}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(load_settings(index_dir=tmp_path / "index"), engine_loader=lambda settings: FakeEngine())
    with TestClient(app) as test_client:
        yield test_client


def test_check_contract_holds(client: TestClient) -> None:
    text = f"{BEAM} The keeper sold apples at the market."
    response = client.post("/check", json={"answer": {"text": text, "citations": [cite(BEAM)]}})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == CONTRACT_KEYS["response"]
    first, second = body["sentences"]
    for sentence in body["sentences"]:
        assert set(sentence) == CONTRACT_KEYS["sentence"]
        assert text[sentence["start"]:sentence["end"]] == sentence["text"]
        for reason in sentence["reasons"]:
            assert set(reason) == CONTRACT_KEYS["reason"]
    assert first["verdict"] == "supported" and first["reasons"] == []
    assert set(first["evidence"]) == CONTRACT_KEYS["evidence"]
    evidence = first["evidence"]
    assert LIGHTHOUSE.text[evidence["start_char"]:evidence["end_char"]] == evidence["text"] == BEAM
    assert second["verdict"] == "unsupported" and second["reasons"][0]["code"] == "low_similarity"
    assert body["supported_share"] == 0.5


def test_check_without_citations_uses_the_question(client: TestClient) -> None:
    answer = {"text": BEAM}
    assert client.post("/check", json={"answer": answer}).json()["sentences"][0]["verdict"] == "no_citation"
    body = client.post("/check", json={"answer": answer, "question": "How far does the beam reach?"}).json()
    assert body["sentences"][0]["verdict"] == "supported"


def test_an_unknown_document_is_404_and_a_range_outside_the_text_422(client: TestClient) -> None:
    unknown = client.post("/check", json={"answer": {"text": BEAM, "citations": [
        cite(BEAM), {"doc_id": "no-such-doc", "start_char": 0, "end_char": 5}]}})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_document"
    assert "answer.citations[1].doc_id" in unknown.json()["error"]["message"]
    for start, end, said in ((5, 5, "start_char 5 is the same as end_char 5"),
                             (9, 3, "start_char 9 is after end_char 3"),
                             (0, len(LIGHTHOUSE.text) + 1, f"0-{len(LIGHTHOUSE.text)}")):
        response = client.post("/check", json={"answer": {"text": BEAM, "citations": [
            {"doc_id": LIGHTHOUSE.doc_id, "start_char": start, "end_char": end}]}})
        assert response.status_code == 422, (start, end)
        assert response.json()["error"]["code"] == "invalid_citation"
        assert said in response.json()["error"]["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({"answer": {"text": ""}}, "answer.text"),
    ({"answer": {"text": "   "}}, "answer.text"),
    ({"answer": {"text": "a\x00b"}}, "answer.text"),
    ({"answer": {"text": "x" * (ANSWER_MAX_CHARS + 1)}}, "answer.text"),
    ({"answer": {"text": BEAM, "citations": [{"doc_id": "a", "start_char": -1, "end_char": 3}]}},
     "answer.citations[0].start_char"),
    ({"answer": {"text": BEAM, "citations": [{"doc_id": "a", "start_char": "0", "end_char": 3}]}},
     "answer.citations[0].start_char"),
    ({"answer": {"text": BEAM}, "extra": 1}, "extra"),
    ({"answer": {"text": BEAM}, "question": ""}, "question"),
    ({}, "answer"),
])
def test_invalid_bodies_are_422_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/check", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["message"].startswith(field)


def test_check_errors_talk_about_the_check_body(client: TestClient) -> None:
    not_json = client.post("/check", content=b"{answer", headers={"content-type": "application/json"})
    wrong_type = client.post("/check", content=b"answer", headers={"content-type": "text/plain"})
    empty = client.post("/check", content=b"", headers={"content-type": "application/json"})
    for response, status in ((not_json, 400), (wrong_type, 415), (empty, 422)):
        message = response.json()["error"]["message"]
        assert response.status_code == status and '{"answer": {"text"' in message and '"question"' not in message
    query = client.post("/query", content=b"{q", headers={"content-type": "application/json"})
    assert '{"question": "..."}' in query.json()["error"]["message"]


def test_the_citation_limit_says_how_many_were_sent(client: TestClient) -> None:
    citations = [cite(BEAM)] * 150
    response = client.post("/check", json={"answer": {"text": BEAM, "citations": citations}})
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "answer.citations: must have at most 100 items (150 were sent)"


def test_body_limit_keys_and_metrics_apply(tmp_path: Path) -> None:
    settings = load_settings(index_dir=tmp_path / "index", api_key="check-key-3e8a1f", max_body_bytes=2048)
    with TestClient(create_app(settings, engine_loader=lambda settings: FakeEngine())) as test_client:
        body = {"answer": {"text": BEAM, "citations": [cite(BEAM)]}}
        assert test_client.post("/check", json=body).status_code == 401
        headers = {"Authorization": "Bearer check-key-3e8a1f"}
        assert test_client.post("/check", json=body, headers=headers).status_code == 200
        too_big = {"answer": {"text": "word " * 1000}}
        response = test_client.post("/check", json=too_big, headers=headers)
        assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
        assert "shorter answer" in response.json()["error"]["message"]
        metrics = test_client.get("/metrics", headers=headers).text
    assert 'grounded_checked_sentences_total{verdict="supported"} 1.0' in metrics
    assert 'route="/check",status="200"' in metrics
    assert 'route="/check",status="413"' in metrics


def test_check_is_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/check"]["post"]
    assert {"200", "401", "404", "413", "422", "503", "504"} <= set(operation["responses"])
    components = schema["components"]["schemas"]
    assert set(components["CheckRequest"]["properties"]) == CONTRACT_KEYS["request"]
    assert components["CheckRequest"]["additionalProperties"] is False


def test_schema_field_names_are_the_contract() -> None:
    request = CheckRequest.model_json_schema()
    assert set(request["properties"]) == CONTRACT_KEYS["request"]
    assert set(request["$defs"]["CheckAnswer"]["properties"]) == CONTRACT_KEYS["answer"]
    assert set(request["$defs"]["CheckCitation"]["properties"]) == CONTRACT_KEYS["citation"]
    response = CheckResponse.model_json_schema()
    assert set(response["properties"]) == CONTRACT_KEYS["response"]
    assert set(response["$defs"]["SentenceVerdict"]["properties"]) == \
        CONTRACT_KEYS["sentence"] | CONTRACT_KEYS["sentence_optional"]
    assert set(response["$defs"]["EvidenceBody"]["properties"]) == CONTRACT_KEYS["evidence"] | CONTRACT_KEYS[
        "paged_evidence"]
    assert "pages" not in response["$defs"]["EvidenceBody"].get("required", [])
    assert set(response["$defs"]["ReasonBody"]["properties"]) == CONTRACT_KEYS["reason"]


def test_the_wire_verdicts_are_the_checkers() -> None:
    assert typing.get_args(Verdict) == VERDICTS
    assert typing.get_args(VerifierLabel) == LABELS


@pytest.fixture
def real_engine(tmp_path: Path) -> Iterator[QueryEngine]:
    corpus = write_fake_corpus(tmp_path / "corpus", (LIGHTHOUSE, ORCHARD))
    ingest([corpus], tmp_path / "index", HashingEmbedder())
    yield load_engine(tmp_path / "index")
    gc.unfreeze()  # loading froze the process's objects; give them back to the collector


def test_the_real_checker_flags_a_changed_number(tmp_path: Path, real_engine: QueryEngine) -> None:
    text = real_engine.document_text(LIGHTHOUSE.doc_id)
    assert text is not None
    app = create_app(load_settings(index_dir=tmp_path / "index"), engine_loader=hand_over(real_engine))
    with TestClient(app) as test_client:
        body = {"answer": {"text": f"{COST} The restoration cost 9 million euros.",
                           "citations": [cite(COST, document_text=text)]}}
        response = test_client.post("/check", json=body)
    assert response.status_code == 200
    faithful, changed = response.json()["sentences"]
    assert faithful["verdict"] == "supported"
    assert text[faithful["evidence"]["start_char"]:faithful["evidence"]["end_char"]] == COST
    assert changed["verdict"] == "unsupported"
    assert [reason["code"] for reason in changed["reasons"]] == ["number_mismatch"]
