"""Hot reload without dropped queries, failed reloads, SIGHUP, and graceful shutdown on SIGTERM."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from index.errors import IndexCorruptedError, ModelMismatchError
from service.app import create_app
from service.engine_protocol import QueryEngineProtocol
from service.reload import reload_in_background
from service.settings import load_settings
from tests.support.fakes import (
    LIGHTHOUSE,
    ORCHARD,
    FakeDocument,
    FakeEngine,
    SlowEngine,
    alternating_reloader,
    running_server,
    write_fake_corpus,
)
from tests.support.paths import REPO

ADMIN_KEY = "admin-key-for-reload-tests-3c9d"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
QUESTION = {"question": "How far does the lighthouse beam reach at night?"}
V1, V2 = "fake-index-0001", "fake-index-0002"


def make_app(tmp_path: Path, engine: QueryEngineProtocol, reloader: Any = None, **overrides: Any) -> Any:
    settings = load_settings(index_dir=tmp_path, admin_key=ADMIN_KEY, **overrides)
    return create_app(settings, engine_loader=lambda s: engine, engine_reloader=reloader)


def test_sixteen_clients_see_no_error_during_twenty_reloads(tmp_path: Path) -> None:
    first, second = SlowEngine(index_version=V1, delay_s=0.002), SlowEngine(index_version=V2, delay_s=0.002)
    # A queue as deep as the client count: this test is about reloads, not about overload.
    app = make_app(tmp_path, first, alternating_reloader(first, second), max_queue=32, queue_timeout_s=10)
    statuses: Counter[int] = Counter()
    versions: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    with running_server(app) as base_url:

        def query_until_stopped() -> None:
            with httpx.Client(base_url=base_url, timeout=30) as http:
                while not stop.is_set():
                    response = http.post("/query", json=QUESTION)
                    with lock:
                        statuses[response.status_code] += 1
                        if response.status_code == 200:
                            versions[response.json()["index_version"]] += 1

        clients = [threading.Thread(target=query_until_stopped) for _ in range(16)]
        for client in clients:
            client.start()
        reloads = []
        with httpx.Client(base_url=base_url, timeout=30) as admin:
            for _ in range(20):
                time.sleep(0.02)
                reloads.append(admin.post("/admin/reload", headers=ADMIN).json())
        stop.set()
        for client in clients:
            client.join(timeout=30)
    assert [reload["index_version"] for reload in reloads] == [V2, V1] * 10
    assert all(reload["changed"] for reload in reloads)
    assert set(statuses) == {200}, statuses
    assert set(versions) == {V1, V2}  # both served, nothing else ever answered
    assert sum(statuses.values()) > 16


def test_a_query_in_flight_finishes_on_the_old_version(tmp_path: Path) -> None:
    old, new = SlowEngine(index_version=V1), FakeEngine(index_version=V2)
    app = make_app(tmp_path, old, alternating_reloader(old, new))
    with TestClient(app) as client:
        old.delay_s = 0.5
        answers: list[Any] = []
        in_flight = threading.Thread(target=lambda: answers.append(client.post("/query", json=QUESTION)))
        in_flight.start()
        deadline = time.monotonic() + 5
        while not old.running and time.monotonic() < deadline:
            time.sleep(0.005)
        reload = client.post("/admin/reload", headers=ADMIN)
        assert reload.json() == {"index_version": V2, "changed": True}
        assert client.post("/query", json=QUESTION).json()["index_version"] == V2
        in_flight.join()
        assert answers[0].status_code == 200
        assert answers[0].json()["index_version"] == V1
        assert client.get("/ready").json()["index_version"] == V2
        metrics = client.get("/metrics").text
    assert f'grounded_index_info{{index_version="{V2}"}} 1.0' in metrics
    assert V1 not in metrics
    assert 'grounded_index_reloads_total{outcome="changed"} 1.0' in metrics


def test_reload_swaps_the_document_table_with_the_engine(tmp_path: Path) -> None:
    old, new = FakeEngine((LIGHTHOUSE,), index_version=V1), FakeEngine((ORCHARD,), index_version=V2)
    with TestClient(make_app(tmp_path, old, alternating_reloader(old, new))) as client:
        assert client.get(f"/documents/{ORCHARD.doc_id}").status_code == 404
        client.post("/admin/reload", headers=ADMIN)
        assert [entry["doc_id"] for entry in client.get("/documents").json()] == [ORCHARD.doc_id]
        assert client.get(f"/documents/{ORCHARD.doc_id}").status_code == 200
        response = client.post("/query", json={**QUESTION, "filters": {"doc_ids": [ORCHARD.doc_id]}})
        assert response.status_code == 200


def test_unchanged_reload(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, FakeEngine(), lambda current: current)) as client:
        assert client.post("/admin/reload", headers=ADMIN).json() == {"index_version": V1, "changed": False}


@pytest.mark.parametrize(
    "error", [IndexCorruptedError("chunk_vectors.npy fails its sha256"), ModelMismatchError("built with model-b")]
)
def test_a_failed_reload_keeps_serving_the_old_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, error: Exception
) -> None:
    def broken(current: QueryEngineProtocol) -> QueryEngineProtocol:
        raise error

    app = make_app(tmp_path, FakeEngine(), broken)
    with caplog.at_level(logging.ERROR, logger="service.reload"), TestClient(app) as client:
        response = client.post("/admin/reload", headers=ADMIN)
        after = client.post("/query", json=QUESTION)
        metrics = client.get("/metrics").text
    assert response.status_code == 409
    body = response.json()
    assert body["error"]["code"] == "reload_failed"
    assert str(error) in body["error"]["message"]
    assert V1 in body["error"]["message"]
    assert after.json()["index_version"] == V1
    assert "reload failed, still serving index fake-index-0001" in caplog.text
    assert 'grounded_index_reloads_total{outcome="failed"} 1.0' in metrics


def test_an_unexpected_reload_error_is_500_and_changes_nothing(tmp_path: Path) -> None:
    def buggy(current: QueryEngineProtocol) -> QueryEngineProtocol:
        raise RuntimeError("reloader bug")

    app = make_app(tmp_path, FakeEngine(), buggy)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/admin/reload", headers=ADMIN)
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "internal_error"
        assert "reloader bug" not in response.text
        assert client.post("/query", json=QUESTION).json()["index_version"] == V1


def test_fakes_cannot_reload_by_default(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, FakeEngine())) as client:
        response = client.post("/admin/reload", headers=ADMIN)
    assert response.status_code == 501
    assert response.json()["error"]["code"] == "reload_unsupported"


def test_sighup_reload_runs_in_the_background(tmp_path: Path) -> None:
    old, new = FakeEngine(index_version=V1), FakeEngine(index_version=V2)
    app = make_app(tmp_path, old, alternating_reloader(old, new))
    with TestClient(app) as client:
        reload_in_background(app.state.engines).join(timeout=10)
        assert client.get("/ready").json()["index_version"] == V2


def test_reload_before_start_up_is_not_ready(tmp_path: Path) -> None:
    app = make_app(tmp_path, FakeEngine(), lambda current: current)
    response = TestClient(app).post("/admin/reload", headers=ADMIN)  # lifespan never ran
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "not_ready"


# --- the real pipeline (hashing embedder: no model download, real FAISS and BM25) ---------------

THIRD = FakeDocument(
    doc_id="river-ferry",
    title="River ferry returns after repairs",
    source="river-ferry.txt",
    text=(
        "The chain ferry across the Ord river returned to service on Monday. "
        "Engineers replaced the drive wheel and two hundred metres of chain. "
        "The crossing takes four minutes and carries twelve cars."
    ),
)


def test_real_engine_reloads_a_newly_published_version_while_answering(tmp_path: Path) -> None:
    from index.build import ingest
    from ingest.embedding import HashingEmbedder
    from service.engine import load_engine

    index_dir = tmp_path / "index"
    corpus = write_fake_corpus(tmp_path / "corpus", (LIGHTHOUSE, ORCHARD))
    first = ingest([corpus], index_dir, HashingEmbedder()).manifest.index_version
    engine = load_engine(index_dir, threads=1)
    settings = load_settings(index_dir=index_dir, admin_key=ADMIN_KEY, max_queue=16, queue_timeout_s=10)
    app = create_app(settings, engine_loader=lambda s: engine)  # the default reloader
    questions = ["How far does the beam reach?", "Who chairs the cooperative?", "How long is the ferry crossing?"]
    with TestClient(app) as client:
        versions: Counter[str] = Counter()
        failures: list[str] = []
        stop = threading.Event()

        def ask() -> None:
            turn = 0
            while not stop.is_set():
                response = client.post("/query", json={"question": questions[turn % 3]})
                turn += 1
                if response.status_code != 200:
                    failures.append(response.text)
                else:
                    versions[response.json()["index_version"]] += 1

        askers = [threading.Thread(target=ask) for _ in range(4)]
        for asker in askers:
            asker.start()
        unchanged = client.post("/admin/reload", headers=ADMIN).json()
        write_fake_corpus(corpus, (THIRD,))
        second = ingest([corpus], index_dir, HashingEmbedder()).manifest.index_version
        reload = client.post("/admin/reload", headers=ADMIN).json()
        time.sleep(0.2)
        stop.set()
        for asker in askers:
            asker.join(timeout=30)
        assert unchanged == {"index_version": first, "changed": False}
        assert reload == {"index_version": second, "changed": True}
        assert failures == []
        assert set(versions) <= {first, second}
        assert versions[second] > 0
        ferry = client.post("/query", json={"question": "ferry crossing chain", "top_k": 3}).json()
        assert ferry["index_version"] == second
        assert THIRD.doc_id in {passage["citation"]["doc_id"] for passage in ferry["passages"]}

        # A damaged new version is refused and the good one keeps serving.
        fourth = FakeDocument(doc_id="fourth", title="Fourth", source="", text=THIRD.text + " Again.")
        write_fake_corpus(corpus, (fourth,))
        third = ingest([corpus], index_dir, HashingEmbedder()).manifest.index_version
        vectors = index_dir / "versions" / third / "chunk_vectors.npy"
        damaged = bytearray(vectors.read_bytes())
        damaged[-8:] = bytes(8)
        vectors.write_bytes(bytes(damaged))
        refused = client.post("/admin/reload", headers=ADMIN)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "reload_failed"
        assert second in refused.json()["error"]["message"]
        assert client.post("/query", json=QUESTION).json()["index_version"] == second


# --- a real `grounded serve` process: SIGHUP reloads, SIGTERM drains -----------------------------

API_KEY = "query-key-for-process-tests-8a1f"
DELAY_MS = 1500


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def served_index(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    from index.build import ingest
    from ingest.embedding import HashingEmbedder

    corpus = write_fake_corpus(tmp_path / "corpus", (LIGHTHOUSE, ORCHARD))
    ingest([corpus], tmp_path / "index", HashingEmbedder())
    yield corpus, tmp_path / "index"


def test_server_process_reloads_on_sighup_and_drains_on_sigterm(
    served_index: tuple[Path, Path], tmp_path: Path
) -> None:
    from index.build import ingest
    from ingest.embedding import HashingEmbedder

    corpus, index_dir = served_index
    port = free_port()
    log_path = tmp_path / "server.log"
    environment = {
        **os.environ,
        "GROUNDED_API_KEY": API_KEY,
        "GROUNDED_SHUTDOWN_GRACE_S": "20",
    }
    # A file, not a pipe: nobody reads a pipe while the test runs, and a full one blocks the server.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.slow_serve", str(DELAY_MS), "--index", str(index_dir),
             "--port", str(port)],
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": API_KEY}
    try:
        http = httpx.Client(base_url=base_url, timeout=30, headers=headers)

        def ready() -> bool:
            assert process.poll() is None, "the server exited during start-up"
            try:
                return http.get("/ready").status_code == 200
            except httpx.TransportError:
                return False

        wait_for(ready, 120, "the server to become ready")
        first = http.get("/ready").json()["index_version"]

        # SIGHUP: the newest published version is served, with no restart.
        write_fake_corpus(corpus, (THIRD,))
        second = ingest([corpus], index_dir, HashingEmbedder()).manifest.index_version
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: http.get("/ready").json()["index_version"] == second, 60, "the SIGHUP reload")
        assert second != first

        # SIGTERM with a slow query in flight: it is answered, then the process exits 0.
        answers: list[httpx.Response] = []
        slow = threading.Thread(target=lambda: answers.append(http.post("/query", json=QUESTION)))
        slow.start()
        in_flight = re.compile(r"^grounded_queries_in_flight 1\.0$", re.MULTILINE)
        wait_for(lambda: bool(in_flight.search(http.get("/metrics").text)), 30, "the query to start")
        process.send_signal(signal.SIGTERM)
        slow.join(timeout=30)
        exit_code = process.wait(timeout=30)
        http.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert answers and answers[0].status_code == 200, output
    assert answers[0].json()["index_version"] == second
    assert exit_code == 0, output
    assert "stopped on SIGTERM" in output
    assert f"reloaded index {first} -> {second}" in output
    assert API_KEY not in output  # neither the access log nor anything else prints the key
