"""While admission is full, ``POST /query`` is refused by the outermost layer, exactly as admission would."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.admission import Admission
from service.app import create_app
from service.records import Query, QueryResult
from service.settings import load_settings
from tests.support.fakes import FakeEngine, running_server

QUESTION = {"question": "How far does the lighthouse beam reach at night?"}
API_KEY = "query-key-for-early-refusal-tests-7d2a"
ORIGIN = "https://pages.example"
JSON = {"content-type": "application/json"}


class BlockingEngine(FakeEngine):
    """A ``FakeEngine`` whose queries wait for ``release`` (the warm-up never does)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self.block = False

    def query(self, query: Query) -> QueryResult:
        """Wait for ``release`` once blocking is on, then answer like the fake."""
        if self.block:
            self.started.release()
            self.release.wait(10)
        return super().query(query)


@pytest.fixture
def engine() -> Iterator[BlockingEngine]:
    engine = BlockingEngine()
    yield engine
    engine.release.set()


@contextmanager
def full_admission(client: TestClient, engine: BlockingEngine) -> Iterator[None]:
    """Hold the only slot (no queue) with one blocked query for the duration of the block."""
    engine.block = True
    holder = threading.Thread(target=client.post, args=("/query",), kwargs={"json": QUESTION, "headers": auth()})
    holder.start()
    assert engine.started.acquire(timeout=5), "the holding query never started"
    admission: Admission = client.app.state.admission  # type: ignore[attr-defined]
    assert admission.full
    try:
        yield
    finally:
        engine.release.set()
        holder.join(timeout=10)
        engine.block = False


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


def make_client(tmp_path: Path, engine: FakeEngine, **overrides: Any) -> TestClient:
    settings = load_settings(index_dir=tmp_path, api_key=API_KEY, max_concurrent_queries=1, max_queue=0, **overrides)
    return TestClient(create_app(settings, engine_loader=lambda s: engine), raise_server_exceptions=False)


def metric(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


REFUSED = 'grounded_queries_rejected_total{reason="queue_full"}'
HTTP_503 = 'grounded_http_requests_total{method="POST",route="/query",status="503"}'


def comparable(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body, without the timing header's value."""
    headers = {name: value for name, value in response.headers.items() if name != "x-process-time-ms"}
    assert "x-process-time-ms" in response.headers
    return response.status_code, headers, response.content


def test_the_early_refusal_equals_the_refusal_of_admission(
    tmp_path: Path, engine: BlockingEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_client(tmp_path, engine) as client:
        with full_admission(client, engine):
            early = client.post("/query", json=QUESTION, headers=auth())
            # Blind the early check, as a race would: admission itself refuses, as it always did.
            monkeypatch.setattr(Admission, "full", property(lambda self: False))
            late = client.post("/query", json=QUESTION, headers=auth())
            monkeypatch.undo()
        text = client.get("/metrics", headers=auth()).text
    assert early.status_code == 503
    assert early.json()["error"]["code"] == "overloaded"
    assert early.headers["retry-after"] == "1"
    assert comparable(early) == comparable(late)
    # One count per refusal, whichever layer refused: never counted twice.
    assert metric(text, REFUSED) == 2.0
    assert metric(text, HTTP_503) == 2.0
    assert metric(text, 'grounded_http_requests_total{method="POST",route="/query",status="200"}') == 1.0


def test_a_refusal_while_full_comes_before_keys_and_body(tmp_path: Path, engine: BlockingEngine) -> None:
    with make_client(tmp_path, engine) as client:
        queries_before = len(engine.queries)
        with full_admission(client, engine):
            no_key = client.post("/query", json=QUESTION)
            broken_json = client.post("/query", content=b"{not json", headers={**auth(), **JSON})
            # Everything but POST /query goes the usual way.
            health = client.get("/health")
            documents = client.get("/documents", headers=auth())
            wrong_method = client.get("/query", headers=auth())
            slash = client.post("/query/", json=QUESTION, headers=auth(), follow_redirects=False)
        assert len(engine.queries) == queries_before + 1  # only the query holding the slot ran
        answered = client.post("/query", json=QUESTION, headers=auth())
    assert [no_key.status_code, broken_json.status_code] == [503, 503]
    assert no_key.json()["error"]["code"] == broken_json.json()["error"]["code"] == "overloaded"
    assert (health.status_code, documents.status_code, wrong_method.status_code) == (200, 200, 405)
    assert slash.status_code != 503
    assert answered.status_code == 200  # the slot came back: nothing leaked


def test_the_normal_path_is_untouched(tmp_path: Path, engine: BlockingEngine) -> None:
    with make_client(tmp_path, engine) as client:
        responses = [client.post("/query", json=QUESTION, headers=auth()) for _ in range(3)]
        unauthorised = client.post("/query", json=QUESTION)
        invalid = client.post("/query", json={"question": ""}, headers=auth())
        text = client.get("/metrics", headers=auth()).text
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert (unauthorised.status_code, invalid.status_code) == (401, 422)
    assert metric(text, REFUSED) == 0.0
    assert metric(text, 'grounded_http_requests_total{method="POST",route="/query",status="200"}') == 3.0


def test_the_early_refusal_carries_cors_headers_for_an_allowed_origin(tmp_path: Path, engine: BlockingEngine) -> None:
    with make_client(tmp_path, engine, cors_origins=[ORIGIN]) as client, full_admission(client, engine):
        early = client.post("/query", json=QUESTION, headers={**auth(), "Origin": ORIGIN})
        other = client.post("/query", json=QUESTION, headers={**auth(), "Origin": "https://elsewhere.example"})
    assert early.status_code == other.status_code == 503
    assert early.headers["access-control-allow-origin"] == ORIGIN
    assert "retry-after" in early.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers


def test_a_keep_alive_connection_survives_a_refusal_with_an_unread_body(tmp_path: Path) -> None:
    engine = BlockingEngine()
    settings = load_settings(index_dir=tmp_path, max_concurrent_queries=1, max_queue=0)
    # Valid JSON of 60 KB (trailing whitespace), under the 64 KiB limit: several reads of the socket.
    long_body = json.dumps(QUESTION).encode() + b" " * 60_000
    with running_server(create_app(settings, engine_loader=lambda s: engine)) as base_url:
        engine.block = True
        holder = threading.Thread(target=httpx.post, args=(f"{base_url}/query",),
                                  kwargs={"json": QUESTION, "timeout": 20})
        holder.start()
        try:
            assert engine.started.acquire(timeout=5)
            with httpx.Client(base_url=base_url, timeout=10, limits=httpx.Limits(max_connections=1)) as client:
                refusals = [client.post("/query", content=long_body, headers=JSON) for _ in range(3)]
                engine.release.set()
                holder.join(timeout=10)
                engine.block = False
                deadline = time.monotonic() + 5
                answered = client.post("/query", json=QUESTION)
                while answered.status_code == 503 and time.monotonic() < deadline:
                    answered = client.post("/query", json=QUESTION)
                answered_long = client.post("/query", content=long_body, headers=JSON)
        finally:
            engine.release.set()
            holder.join(timeout=10)
    assert [response.status_code for response in refusals] == [503, 503, 503]
    assert all(response.json()["error"]["code"] == "overloaded" for response in refusals)
    assert answered.status_code == 200
    assert answered_long.status_code == 200


def test_post_check_shares_admission_and_its_early_refusal(tmp_path: Path, engine: BlockingEngine) -> None:
    check = {"answer": {"text": "The lighthouse reopened on Saturday."}}
    with make_client(tmp_path, engine) as client:
        with full_admission(client, engine):
            refused = client.post("/check", json=check, headers=auth())
            no_key = client.post("/check", json=check)
        answered = client.post("/check", json=check, headers=auth())
        text = client.get("/metrics", headers=auth()).text
    assert [refused.status_code, no_key.status_code] == [503, 503]
    assert refused.json()["error"]["code"] == "overloaded" and refused.headers["retry-after"] == "1"
    assert answered.status_code == 200
    assert metric(text, 'grounded_http_requests_total{method="POST",route="/check",status="503"}') == 2.0
