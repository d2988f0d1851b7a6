"""A sharded index served on Ray Serve answers as the single-process service, reloads whole, survives a kill.

One local cluster (2 CPUs, no HTTP proxy) for the module, always shut down. The front is the
ordinary app over uvicorn or ``TestClient``; only the shard searches go to the deployments.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray
from fastapi import FastAPI
from fastapi.testclient import TestClient

with warnings.catch_warnings():
    # Ray Serve's own pydantic models pass a keyword pydantic 2 deprecates; not ours to fix.
    warnings.filterwarnings("ignore", message="Using extra keyword arguments on `Field`")
    from ray import serve

from eval.gold import load_gold
from grounded.cli import main
from index.build import ingest
from index.errors import IndexMissingError
from index.layout import VERSIONS_NAME, current_version
from index.ray_shards import RayServeOptions, load_ray_index
from index.shard_manifest import shard_folder_name
from ingest.embedding import Embedder, HashingEmbedder
from service.app import create_app
from service.engine import load_engine
from service.ray_front import load_ray_engine, ray_reloader
from service.reload import reload_query_engine
from service.settings import load_settings
from tests.support.fakes import running_server
from tests.support.paths import REPO

MODES = ("hybrid", "dense", "sparse")
LOAD_QUESTIONS = (
    "What sanctions relief did the United States offer?",
    "Who won the election and by how much?",
    "storm flooding damage",
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    """One local cluster with Serve (no proxies) for the module; never outlives it."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(REPO)}})
    try:
        serve.start(proxy_location="Disabled")
        yield
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]
        ray.shutdown()


@pytest.fixture(autouse=True)
def _unfreeze_afterwards() -> Iterator[None]:
    """Loading an engine freezes the process's objects; give them back to the collector."""
    yield
    gc.unfreeze()


@pytest.fixture
def corpus(tmp_path: Path, seed_corpus: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(seed_corpus, folder)
    return folder


def _apps(*, ray_options: RayServeOptions, index_dir: Path, cache_size: int = 256) -> tuple[FastAPI, FastAPI]:
    """The Ray-served app and the single-process app over the same sharded index."""
    # Generous deadlines: the shared 2-core machine also ingests and deploys during these tests.
    settings = load_settings(index_dir=index_dir, query_timeout_s=30.0, queue_timeout_s=20.0, cache_size=cache_size)
    remote = create_app(settings, engine_loader=lambda served: load_ray_engine(served, ray_options),
                        engine_reloader=ray_reloader(ray_options))
    local = create_app(settings, engine_loader=lambda served: load_engine(served.index_dir),
                       engine_reloader=reload_query_engine)
    return remote, local


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "timings_ms"}


def _ray_applications() -> set[str]:
    return set(serve.status().applications)


def _wait_until_retired() -> None:
    """Once nothing holds a Ray-served engine (its app dropped), its shard applications are deleted."""
    gc.unfreeze()  # the loaded engines were frozen out of the collector's reach
    gc.collect()
    _wait_for(lambda: not _ray_applications(), timeout_s=60, what="the shard applications to be deleted")


def _wait_for(condition: Callable[[], bool], *, timeout_s: float, what: str | Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what if isinstance(what, str) else what()}")
        time.sleep(0.2)


def test_two_shards_on_ray_answer_the_gold_questions_as_one_process(cluster: None, corpus: Path,
                                                                   tmp_path: Path) -> None:
    ingest([corpus], tmp_path / "index", HashingEmbedder(), shards=2)
    remote_app, local_app = _apps(ray_options=RayServeOptions(), index_dir=tmp_path / "index")
    questions = [gold.question for gold in load_gold()]
    with TestClient(remote_app) as remote, TestClient(local_app) as local:
        some_documents = sorted(document["doc_id"] for document in local.get("/documents").json())[:2]
        requests = [{"question": question, "top_k": 5, "mode": "hybrid"} for question in questions]
        requests += [{"question": question, "top_k": 8, "mode": mode} for question in questions[:6]
                     for mode in MODES]
        requests += [{"question": question, "filters": {"doc_ids": some_documents}} for question in questions[:6]]
        for request in requests:
            expected, got = local.post("/query", json=request), remote.post("/query", json=request)
            assert got.status_code == expected.status_code == 200, got.text
            assert _comparable(got.json()) == _comparable(expected.json()), request
        for path in ("/ready", "/health", "/documents", f"/documents/{some_documents[0]}"):
            assert remote.get(path).json() == local.get(path).json(), path
        assert remote.post("/query", json={"question": ""}).json() == local.post("/query", json={"question": ""}).json()
        assert "grounded_index_info" in remote.get("/metrics").text
    del remote_app, local_app, remote, local
    _wait_until_retired()


def test_unsharded_index_is_refused_before_deploying(cluster: None, corpus: Path, tmp_path: Path) -> None:
    ingest([corpus], tmp_path / "flat", HashingEmbedder())
    with pytest.raises(IndexMissingError, match="--shards N"):
        load_ray_index(tmp_path / "flat", RayServeOptions())
    assert not _ray_applications()


def _expected_answers(index_dir: Path) -> dict[str, dict[str, Any]]:
    """The single-process answers to the load questions on the current version."""
    _, local_app = _apps(ray_options=RayServeOptions(), index_dir=index_dir)
    with TestClient(local_app) as local:
        return {question: _comparable(local.post("/query", json={"question": question}).json())
                for question in LOAD_QUESTIONS}


def _hammer(base_url: str, stop: threading.Event, responses: list[httpx.Response]) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        number = 0
        while not stop.is_set():
            question = LOAD_QUESTIONS[number % len(LOAD_QUESTIONS)]
            responses.append(client.post("/query", json={"question": question}))
            number += 1


def test_reload_under_load_never_mixes_two_versions(cluster: None, corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    embedder: Embedder = HashingEmbedder()
    ingest([corpus], index_dir, embedder, shards=2)
    expected = {current_version(index_dir): _expected_answers(index_dir)}
    removed = sorted(corpus.iterdir())[0]
    kept = removed.read_bytes()
    # No result cache: every query of the load must reach the shards.
    remote_app, _ = _apps(ray_options=RayServeOptions(), index_dir=index_dir, cache_size=0)
    responses: list[httpx.Response] = []
    stop = threading.Event()
    with running_server(remote_app) as base_url, httpx.Client(base_url=base_url, timeout=120) as admin:
        clients = [threading.Thread(target=_hammer, args=(base_url, stop, responses)) for _ in range(3)]
        for client in clients:
            client.start()
        try:
            versions = []
            for step in range(3):
                if step % 2 == 0:
                    removed.unlink()
                else:
                    removed.write_bytes(kept)
                ingest([corpus], index_dir, embedder, shards=2)
                version = current_version(index_dir)
                assert version is not None
                expected.setdefault(version, _expected_answers(index_dir))
                reload = admin.post("/admin/reload")
                assert reload.status_code == 200, reload.text
                assert reload.json() == {"index_version": version, "changed": True}
                versions.append(version)
                time.sleep(1.0)
        finally:
            stop.set()
            for client in clients:
                client.join()
        assert len(set(versions)) == 2  # there and back: the same version deployed anew
    assert len(responses) > 20
    seen = set()
    for response in responses:
        assert response.status_code == 200, response.text
        body = _comparable(response.json())
        seen.add(body["index_version"])
        assert body == expected[body["index_version"]][body["question"]]
    assert len(seen) == 2
    del remote_app
    _wait_until_retired()


def test_a_damaged_new_version_is_refused_and_deploys_nothing(cluster: None, corpus: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest keeps every log record of a test, and the reload error's record holds the old engine
    # through its traceback: keep it out of pytest's capture so the engine can be freed below.
    monkeypatch.setattr(logging.getLogger("service.reload"), "propagate", False)
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder(), shards=2)
    served = current_version(index_dir)
    remote_app, _ = _apps(ray_options=RayServeOptions(), index_dir=index_dir)
    with running_server(remote_app) as base_url, httpx.Client(base_url=base_url, timeout=120) as remote:
        deployed = _ray_applications()
        sorted(corpus.iterdir())[0].unlink()
        ingest([corpus], index_dir, HashingEmbedder(), shards=2)
        shard_root = index_dir / VERSIONS_NAME / str(current_version(index_dir)) / shard_folder_name(1)
        damaged = shard_root / VERSIONS_NAME / str(current_version(shard_root)) / "chunks.jsonl"
        damaged.write_bytes(damaged.read_bytes().replace(b"a", b"b", 1))
        reload = remote.post("/admin/reload")
        assert reload.status_code == 409
        assert reload.json()["error"]["code"] == "reload_failed"
        assert "shard 1 of the sharded index" in reload.json()["error"]["message"]
        assert _ray_applications() == deployed
        answer = remote.post("/query", json={"question": LOAD_QUESTIONS[0]})
        assert answer.status_code == 200 and answer.json()["index_version"] == served
    del remote_app, remote
    _wait_until_retired()


def _replica_actors(application_prefix: str) -> list[str]:
    return [actor["name"] for actor in ray.util.list_named_actors(all_namespaces=True)
            if actor["namespace"] == "serve" and actor["name"].startswith(f"SERVE_REPLICA::{application_prefix}")]


def test_a_killed_replica_is_replaced_and_the_gap_is_a_503_naming_the_shard(cluster: None, corpus: Path,
                                                                             tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder(), shards=2)
    expected = _expected_answers(index_dir)
    remote_app, _ = _apps(ray_options=RayServeOptions(timeout_s=0.5), index_dir=index_dir, cache_size=0)
    responses: list[httpx.Response] = []
    stop = threading.Event()
    with running_server(remote_app) as base_url:
        [application] = [name for name in _ray_applications() if name.endswith("-shard-0")]
        [replica] = _replica_actors(application)
        clients = [threading.Thread(target=_hammer, args=(base_url, stop, responses)) for _ in range(2)]
        for client in clients:
            client.start()
        try:
            time.sleep(1.0)
            before = len(responses)
            ray.kill(ray.get_actor(replica, namespace="serve"), no_restart=True)
            _wait_for(lambda: [name for name in _replica_actors(application) if name != replica] != []
                      and any(response.status_code == 503 for response in responses[before:])
                      and responses[-1].status_code == 200,
                      timeout_s=120, what=lambda: (
                          f"a 503 during the gap, then a replacement replica answering: replicas "
                          f"{_replica_actors(application)}, {len(responses)} responses, the last "
                          f"{[(r.status_code, r.text[:120]) for r in responses[-3:]]}, clients alive "
                          f"{[client.is_alive() for client in clients]}"))
        finally:
            stop.set()
            for client in clients:
                client.join()
    statuses = {response.status_code for response in responses}
    assert statuses == {200, 503}
    for response in responses:
        body = response.json()
        if response.status_code == 503:
            assert body["error"]["code"] == "shard_unavailable"
            assert "shard 0 " in body["error"]["message"]
            assert response.headers["retry-after"] == "1"
        else:
            assert _comparable(body) == expected[body["question"]]


def test_with_two_replicas_a_killed_one_goes_unnoticed(cluster: None, corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    ingest([corpus], index_dir, HashingEmbedder(), shards=2)
    expected = _expected_answers(index_dir)
    remote_app, _ = _apps(ray_options=RayServeOptions(replicas=2, timeout_s=10.0), index_dir=index_dir, cache_size=0)
    responses: list[httpx.Response] = []
    stop = threading.Event()
    with running_server(remote_app) as base_url:
        [application] = [name for name in _ray_applications() if name.endswith("-shard-0")]
        replica = _replica_actors(application)[0]
        clients = [threading.Thread(target=_hammer, args=(base_url, stop, responses)) for _ in range(2)]
        for client in clients:
            client.start()
        try:
            time.sleep(1.0)
            before = len(responses)
            ray.kill(ray.get_actor(replica, namespace="serve"), no_restart=True)
            time.sleep(4.0)
            assert len(responses) > before
        finally:
            stop.set()
            for client in clients:
                client.join()
    for response in responses:
        assert response.status_code == 200, response.text
        assert _comparable(response.json()) == expected[response.json()["question"]]
    del remote_app
    _wait_until_retired()


def test_cli_serve_with_ray_refuses_bad_options(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--index", str(tmp_path), "--ray", "--ray-replicas", "0"]) == 2
    assert "--ray-replicas must be at least 1" in capsys.readouterr().err


def test_serving_without_ray_never_imports_ray() -> None:
    code = ("import sys; import service.server, service.ray_front, service.error_handlers; "
            "from grounded.cli import build_parser; build_parser().parse_args(['serve']); "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.slow
def test_real_model_on_ray_answers_the_seed_gold_questions_as_one_process(
        cluster: None, corpus: Path, tmp_path: Path, real_embedder: Embedder) -> None:
    ingest([corpus], tmp_path / "index", real_embedder, shards=2)
    remote_app, local_app = _apps(ray_options=RayServeOptions(), index_dir=tmp_path / "index")
    with TestClient(remote_app) as remote, TestClient(local_app) as local:
        for gold in load_gold():
            request = {"question": gold.question}
            expected, got = local.post("/query", json=request), remote.post("/query", json=request)
            assert got.status_code == expected.status_code == 200, got.text
            assert _comparable(got.json()) == _comparable(expected.json()), request
