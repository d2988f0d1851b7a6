"""Generated answers (``"answer_mode": "generative"``) end to end, against a SCRIPTED STAND-IN.

No language model runs here: ``tests/support/scripted_llm.py`` is a small OpenAI-compatible HTTP
server that replays scripted completions. The service, the official ``openai`` client, the parsing
of ``[n]`` citations and the real grounding checker (on a hashing-embedder index of the fake
documents) all run for real.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from grounding.markers import parse_marked_answer
from index.build import ingest
from ingest.embedding import HashingEmbedder
from service.app import create_app
from service.engine import QueryEngine, load_engine
from service.generative import assemble, check_claims, malformed_reason
from service.mapping import to_query
from service.schemas import QueryRequest
from service.server import hand_over
from service.settings import load_settings
from tests.support.fakes import LIGHTHOUSE, ORCHARD, write_fake_corpus
from tests.support.scripted_llm import Reply, ScriptedModelServer, scripted_model_server

QUESTION = "What did the lighthouse restoration cost, and who chairs the orchard cooperative?"
COST = "The restoration cost four million euros."
CHAIR = "Its chairwoman, Maria Okafor, said the cold store let growers keep fruit fresh until March."
# A light rewording of CHAIR that keeps its facts (the hashing embedder rewards shared words).
CLAIM = "Maria Okafor said the cold store let growers keep fruit fresh until March."
EXTRACTIVE_KEYS = {"question", "answer", "abstention", "passages", "index_version", "timings_ms", "ranker"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueryEngine]:
    root = tmp_path_factory.mktemp("generative")
    ingest([write_fake_corpus(root / "corpus", (LIGHTHOUSE, ORCHARD))], root / "index", HashingEmbedder())
    yield load_engine(root / "index")
    gc.unfreeze()  # loading froze the process's objects; give them back to the collector


@pytest.fixture
def model() -> Iterator[ScriptedModelServer]:
    with scripted_model_server() as server:
        yield server


def make_client(engine: QueryEngine, tmp_path: Path, model: ScriptedModelServer | None, **overrides: Any) -> TestClient:
    llm = {"llm_base_url": model.base_url, "llm_model": "scripted-stand-in", "llm_timeout_s": 1.0} if model else {}
    settings = load_settings(index_dir=tmp_path / "index", **{**llm, **overrides})
    return TestClient(create_app(settings, engine_loader=hand_over(engine)))


def source_number(engine: QueryEngine, sentence: str) -> int:
    """The ``[n]`` of the top passage holding ``sentence`` (the model sees passages by rank)."""
    result = engine.query(to_query(QueryRequest(question=QUESTION)))
    return next(passage.rank for passage in result.passages if sentence in passage.text)


def ask(client: TestClient, **extra: Any) -> dict[str, Any]:
    response = client.post("/query", json={"question": QUESTION, "answer_mode": "generative", **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_offsets_hold(body: dict[str, Any], engine: QueryEngine) -> None:
    text = body["answer"]["text"]
    for sentence in body["sentences"]:
        assert text[sentence["start"]:sentence["end"]] == sentence["text"]
        evidence = sentence["evidence"]
        if evidence is not None:
            document = engine.document_text(evidence["doc_id"]) or ""
            assert document[evidence["start_char"]:evidence["end_char"]] == evidence["text"]
    for citation in body["answer"]["citations"]:
        document = engine.document_text(citation["doc_id"]) or ""
        assert document[citation["start_char"]:citation["end_char"]] == citation["text"]
        passage = body["passages"][citation["passage_rank"] - 1]["citation"]
        assert passage["start_char"] <= citation["start_char"] <= citation["end_char"] <= passage["end_char"]


def test_supported_sentences_are_answered_with_their_verdicts(engine: QueryEngine, model: ScriptedModelServer,
                                                              tmp_path: Path) -> None:
    cost, chair = source_number(engine, COST), source_number(engine, CHAIR)
    model.script = [Reply(text=f"{COST} [{cost}] {CLAIM[:-1]} [{chair}].")]
    with make_client(engine, tmp_path, model) as client:
        body = ask(client)
        metrics = client.get("/metrics").text
    assert body["answer_mode"] == "generative" and "fallback_reason" not in body
    assert body["answer"]["text"] == f"{COST} {CLAIM}"
    assert [s["verdict"] for s in body["sentences"]] == ["supported", "supported"]
    assert body["abstention"] is None
    assert_offsets_hold(body, engine)
    assert {citation["text"] for citation in body["answer"]["citations"]} == {COST, CHAIR}
    # The model got the passages as numbered sources, the question, and the configured model name.
    (request,) = model.requests
    assert request["model"] == "scripted-stand-in"
    prompt = request["messages"][-1]["content"]
    assert f"[{cost}] " in prompt and COST in prompt and prompt.endswith(f"Question: {QUESTION}")
    assert 'grounded_generated_answers_total{outcome="generated"} 1.0' in metrics
    assert 'grounded_checked_sentences_total{verdict="supported"} 2.0' in metrics


def test_a_made_up_number_is_removed_or_marked(engine: QueryEngine, model: ScriptedModelServer,
                                               tmp_path: Path) -> None:
    cost, chair = source_number(engine, COST), source_number(engine, CHAIR)
    made_up = f"The restoration cost nine million euros [{cost}]. {CLAIM[:-1]} [{chair}]."
    model.script = [Reply(text=made_up)]
    with make_client(engine, tmp_path, model) as client:
        removed = ask(client)
    assert removed["answer"]["text"] == CLAIM
    assert [s["verdict"] for s in removed["sentences"]] == ["supported"]
    assert_offsets_hold(removed, engine)
    with make_client(engine, tmp_path, model, llm_unsupported="mark") as client:
        marked = ask(client)
    first, second = marked["sentences"]
    assert first["text"] == "The restoration cost nine million euros."
    assert first["verdict"] == "unsupported" and first["reasons"][0]["code"] == "number_mismatch"
    assert second["verdict"] == "supported"
    assert_offsets_hold(marked, engine)
    # Citations list evidence of supported sentences only.
    assert {citation["text"] for citation in marked["answer"]["citations"]} == {CHAIR}


def test_a_wrong_citation_is_caught(engine: QueryEngine, model: ScriptedModelServer, tmp_path: Path) -> None:
    cost, chair = source_number(engine, COST), source_number(engine, CHAIR)
    model.script = [Reply(text=f"{COST} [{chair}] {CHAIR} [{chair}]")]
    with make_client(engine, tmp_path, model, llm_unsupported="mark") as client:
        body = ask(client)
    wrong, right = body["sentences"]
    assert wrong["verdict"] == "unsupported"
    assert "uncited_source" in [reason["code"] for reason in wrong["reasons"]]
    assert wrong["evidence"]["doc_id"] == LIGHTHOUSE.doc_id  # the checker found where it really is
    assert right["verdict"] == "supported"
    assert cost != chair


@pytest.mark.parametrize(("reply", "reason"), [
    (Reply(text="x", delay_s=3.0), "within 1 s"),
    (Reply(text="The lighthouse is lovely and worth a visit."), "cited no source"),
    (Reply(raw_body=b"this is not JSON"), "not a completion"),
    (Reply(status=500), "HTTP 500"),
    (Reply(text="   "), "empty"),
    (Reply(text="The restoration cost 9 million euros [1]."), "no generated sentence was supported"),
])
def test_a_failing_model_never_fails_the_request(engine: QueryEngine, model: ScriptedModelServer,
                                                  tmp_path: Path, reply: Reply, reason: str) -> None:
    model.script = [reply]
    with make_client(engine, tmp_path, model) as client:
        extractive = client.post("/query", json={"question": QUESTION}).json()
        started = time.perf_counter()
        body = ask(client)
        elapsed = time.perf_counter() - started
    assert body["answer_mode"] == "extractive" and reason in body["fallback_reason"]
    assert body["fallback_reason"].endswith("answered extractively")
    assert body["answer"] == extractive["answer"] and "sentences" not in body
    assert elapsed < 2.5  # the 1 s model deadline held


def test_without_a_configured_server_the_answer_is_extractive_and_says_so(engine: QueryEngine,
                                                                         tmp_path: Path) -> None:
    with make_client(engine, tmp_path, None) as client:
        body = ask(client)
        plain = client.post("/query", json={"question": QUESTION}).json()
    assert body["answer_mode"] == "extractive"
    assert "GROUNDED_LLM_BASE_URL" in body["fallback_reason"]
    assert set(plain) == EXTRACTIVE_KEYS  # the extractive default keeps its shape


def _events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_streaming_sends_the_text_then_the_verdicts(engine: QueryEngine, model: ScriptedModelServer,
                                                    tmp_path: Path) -> None:
    cost, chair = source_number(engine, COST), source_number(engine, CHAIR)
    raw = f"{COST} [{cost}] {CLAIM[:-1]} [{chair}]."
    model.script = [Reply(text=raw, pieces=5), Reply(text="x", delay_s=3.0)]
    with make_client(engine, tmp_path, model) as client:
        response = client.post("/query", json={"question": QUESTION, "answer_mode": "generative", "stream": True})
        late = client.post("/query", json={"question": QUESTION, "answer_mode": "generative", "stream": True})
        extractive = client.post("/query", json={"question": QUESTION, "stream": True})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) == 5 and "".join(deltas) == raw
    (name, result), = [event for event in events if event[0] != "delta"]
    assert name == "result" and events[-1][0] == "result"
    assert result["answer_mode"] == "generative"
    assert [s["verdict"] for s in result["sentences"]] == ["supported", "supported"]
    assert model.requests[0]["stream"] is True
    ((name, fallback),) = _events(late.text)
    assert name == "result" and "within 1 s" in fallback["fallback_reason"]
    ((name, plain),) = _events(extractive.text)
    assert name == "result" and set(plain) == EXTRACTIVE_KEYS


def test_the_key_reaches_the_server(engine: QueryEngine, model: ScriptedModelServer, tmp_path: Path) -> None:
    model.script = [Reply(text="Nothing [1].")]
    with make_client(engine, tmp_path, model, llm_api_key="sk-scripted-0001") as client:
        ask(client)
    assert model.headers[0]["authorization"] == "Bearer sk-scripted-0001"


def test_assembly_places_kept_sentences_and_needs_one_supported(engine: QueryEngine) -> None:
    result = engine.query(to_query(QueryRequest(question=QUESTION)))
    cost = source_number(engine, COST)
    marked = parse_marked_answer(f"{COST}[{cost}]\nThe restoration cost 7 euros [{cost}].")
    assert malformed_reason(marked, result.passages) is None
    checks = check_claims(marked, result.passages, engine.check)
    kept = assemble(marked, checks, result.passages, "remove")
    assert kept is not None and kept.answer.text == COST and kept.removed == 1
    only_bad = parse_marked_answer(f"The restoration cost 7 euros [{cost}].")
    assert assemble(only_bad, check_claims(only_bad, result.passages, engine.check), result.passages,
                    "mark") is None
    assert malformed_reason(parse_marked_answer("No brackets."), result.passages) is not None
    assert malformed_reason(parse_marked_answer("Out of range [99]."), result.passages) is not None


def test_the_model_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"BASE_URL": "http://127.0.0.1:11434/v1", "MODEL": "llama3.1:8b", "API_KEY": "k",
                        "TIMEOUT_S": "120", "UNSUPPORTED": "mark", "SOURCES": "3"}.items():
        monkeypatch.setenv(f"GROUNDED_LLM_{name}", value)
    settings = load_settings()
    assert (settings.llm_base_url, settings.llm_model, settings.llm_timeout_s) == (
        "http://127.0.0.1:11434/v1", "llama3.1:8b", 120.0)
    assert (settings.llm_unsupported, settings.llm_sources, settings.generation_configured) == ("mark", 3, True)
    assert settings.llm_api_key is not None and settings.llm_api_key.get_secret_value() == "k"
    monkeypatch.setenv("GROUNDED_LLM_BASE_URL", "")
    assert load_settings().generation_configured is False
    monkeypatch.setenv("GROUNDED_LLM_UNSUPPORTED", "hide")
    with pytest.raises(ValueError, match="llm_unsupported"):
        load_settings()
