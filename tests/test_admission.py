"""Admission control and the query deadline: 503 overloaded at once, 504 at the deadline, no leaks."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from service.admission import Admission
from service.app import create_app
from service.errors import OverloadedError, QueryTimeoutError
from service.settings import QUEUE_PER_SLOT, Settings, available_cores, load_settings
from tests.support.fakes import FakeEngine, SlowEngine, running_server

QUESTION = {"question": "How far does the lighthouse beam reach at night?"}


def make_admission(**limits: Any) -> Admission:
    values = {"slots": 1, "queue": 1, "queue_timeout_s": 5.0, "query_timeout_s": 10.0, **limits}
    return Admission(registry=CollectorRegistry(), **values)


def blocker() -> tuple[threading.Event, Callable[[], str]]:
    """Work that holds its slot until the event is set."""
    release = threading.Event()

    def work() -> str:
        release.wait(10)
        return "done"

    return release, work


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


def test_refuses_at_once_beyond_slots_plus_queue() -> None:
    async def scenario() -> None:
        admission = make_admission(slots=1, queue=1)
        release, work = blocker()
        first = asyncio.create_task(admission.run(work))
        second = asyncio.create_task(admission.run(work))
        await wait_until(lambda: admission.running == 1 and admission.queued == 1)
        started = time.perf_counter()
        with pytest.raises(OverloadedError, match="at capacity"):
            await admission.run(work)
        assert time.perf_counter() - started < 0.05  # refused without waiting for anything
        release.set()
        assert await first == "done"
        assert await second == "done"
        assert (admission.running, admission.queued) == (0, 0)

    asyncio.run(scenario())


def test_a_queued_request_gives_up_after_queue_timeout() -> None:
    async def scenario() -> None:
        admission = make_admission(slots=1, queue=1, queue_timeout_s=0.1)
        release, work = blocker()
        running = asyncio.create_task(admission.run(work))
        await wait_until(lambda: admission.running == 1)
        started = time.perf_counter()
        with pytest.raises(OverloadedError, match="no query slot became free"):
            await admission.run(lambda: "never")
        assert 0.09 < time.perf_counter() - started < 1.0
        assert admission.queued == 0  # the place in the queue is given back
        release.set()
        assert await running == "done"

    asyncio.run(scenario())


def test_deadline_answers_in_time_and_the_slot_frees_when_the_work_ends() -> None:
    async def scenario() -> None:
        admission = make_admission(slots=1, queue=0, query_timeout_s=0.15)
        release, work = blocker()
        started = time.perf_counter()
        with pytest.raises(QueryTimeoutError, match=r"within 0\.15 s"):
            await admission.run(work)
        assert 0.14 < time.perf_counter() - started < 1.0
        # The computation cannot be interrupted: it keeps its slot until it really returns.
        assert admission.running == 1
        with pytest.raises(OverloadedError):
            await admission.run(lambda: "refused while the slot is taken")
        release.set()
        await wait_until(lambda: admission.running == 0)
        assert await admission.run(lambda: "next") == "next"

    asyncio.run(scenario())


def test_errors_of_the_work_propagate_and_free_the_slot() -> None:
    async def scenario() -> None:
        admission = make_admission()

        def broken() -> str:
            raise ValueError("engine bug")

        with pytest.raises(ValueError, match="engine bug"):
            await admission.run(broken)
        assert (admission.running, admission.queued) == (0, 0)

    asyncio.run(scenario())


def test_a_cancelled_waiter_leaves_the_queue() -> None:
    async def scenario() -> None:
        admission = make_admission(slots=1, queue=1)
        release, work = blocker()
        running = asyncio.create_task(admission.run(work))
        await wait_until(lambda: admission.running == 1)
        waiting = asyncio.create_task(admission.run(lambda: "never"))
        await wait_until(lambda: admission.queued == 1)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert admission.queued == 0
        release.set()
        await running

    asyncio.run(scenario())


def test_never_more_running_than_slots() -> None:
    async def scenario() -> None:
        admission = make_admission(slots=3, queue=40)
        lock = threading.Lock()
        now = peak = 0

        def work() -> None:
            nonlocal now, peak
            with lock:
                now += 1
                peak = max(peak, now)
            time.sleep(0.01)
            with lock:
                now -= 1

        await asyncio.gather(*(admission.run(work) for _ in range(40)))
        assert peak == 3
        assert (admission.running, admission.queued) == (0, 0)

    asyncio.run(scenario())


def test_default_limits_follow_the_cores() -> None:
    settings = load_settings(threads=1)
    assert settings.query_slots == available_cores()
    assert settings.queue_slots == QUEUE_PER_SLOT * available_cores() == 32 * available_cores()
    assert load_settings(threads=64).query_slots == 1
    explicit = load_settings(max_concurrent_queries=3, max_queue=0)
    assert (explicit.query_slots, explicit.queue_slots) == (3, 0)


# --- over HTTP -----------------------------------------------------------------------------------


def metric(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match is not None, f"{name} not in /metrics"
    return float(match.group(1))


@pytest.fixture
def slow_engine() -> SlowEngine:
    return SlowEngine()


def make_client(tmp_path: Path, engine: FakeEngine, **overrides: Any) -> TestClient:
    settings = load_settings(index_dir=tmp_path, **overrides)
    return TestClient(create_app(settings, engine_loader=lambda s: engine), raise_server_exceptions=False)


def test_a_slow_query_gets_504_and_its_slot_comes_back(tmp_path: Path, slow_engine: SlowEngine) -> None:
    with make_client(tmp_path, slow_engine, query_timeout_s=0.2, max_concurrent_queries=1, max_queue=0) as client:
        slow_engine.delay_s = 1.0
        started = time.perf_counter()
        response = client.post("/query", json=QUESTION)
        elapsed = time.perf_counter() - started
        assert response.status_code == 504
        assert response.json()["error"]["code"] == "query_timeout"
        assert set(response.json()["error"]) == {"code", "message"}
        assert elapsed < 0.9
        text = client.get("/metrics").text
        assert metric(text, "grounded_queries_in_flight") == 1.0
        assert metric(text, "grounded_query_timeouts_total") == 1.0
        deadline = time.monotonic() + 5
        while slow_engine.running and time.monotonic() < deadline:
            time.sleep(0.01)
        slow_engine.delay_s = 0.0
        assert client.post("/query", json=QUESTION).status_code == 200
        assert metric(client.get("/metrics").text, "grounded_queries_in_flight") == 0.0
        assert 'route="/query",status="504"' in client.get("/metrics").text


def test_a_slow_engine_given_to_create_app_slows_every_query(tmp_path: Path) -> None:
    with make_client(tmp_path, SlowEngine(delay_s=0.4), query_timeout_s=0.1) as client:
        response = client.post("/query", json=QUESTION)
    assert response.status_code == 504


def test_production_settings_have_no_test_delay() -> None:
    assert not any("delay" in name for name in Settings.model_fields)


def test_overloaded_error_shape_and_retry_after(tmp_path: Path, slow_engine: SlowEngine) -> None:
    with make_client(tmp_path, slow_engine, max_concurrent_queries=1, max_queue=0) as client:
        slow_engine.delay_s = 0.5
        holder = threading.Thread(target=client.post, args=("/query",), kwargs={"json": QUESTION})
        holder.start()
        deadline = time.monotonic() + 5
        while not slow_engine.running and time.monotonic() < deadline:
            time.sleep(0.005)
        response = client.post("/query", json=QUESTION)
        holder.join()
        text = client.get("/metrics").text
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "overloaded"
    assert response.headers["retry-after"] == "1"
    assert 'grounded_queries_rejected_total{reason="queue_full"} 1.0' in text


def test_four_times_capacity_over_a_real_server(tmp_path: Path) -> None:
    """16 simultaneous clients against 2 slots + 2 queue places: the rest are refused at once."""
    engine = SlowEngine()
    settings = load_settings(index_dir=tmp_path, max_concurrent_queries=2, max_queue=2, queue_timeout_s=2.0)
    clients = 16
    results: list[tuple[int, float, dict[str, Any], str]] = []
    lock = threading.Lock()
    with running_server(create_app(settings, engine_loader=lambda s: engine)) as base_url:
        engine.delay_s = 0.6
        barrier = threading.Barrier(clients)

        def one_client() -> None:
            with httpx.Client(base_url=base_url, timeout=10) as http:
                http.get("/health")  # connect first, so the burst is requests, not handshakes
                barrier.wait()
                started = time.perf_counter()
                response = http.post("/query", json=QUESTION)
                elapsed = time.perf_counter() - started
            retry_after = response.headers.get("retry-after", "")
            with lock:
                results.append((response.status_code, elapsed, response.json(), retry_after))

        threads = [threading.Thread(target=one_client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads), "a connection hung"
    statuses = [status for status, _, _, _ in results]
    assert len(results) == clients
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 4  # every admitted request succeeded
    assert statuses.count(503) >= 1
    assert engine.peak <= 2
    for status, elapsed, body, retry_after in results:
        if status == 503:
            assert body["error"]["code"] == "overloaded"
            assert retry_after == "1"
            # Well under one query's 0.6 s: a refusal never waits for a slot.
            assert elapsed < 0.4, f"a refusal took {elapsed:.2f} s"
        else:
            assert body["index_version"] == "fake-index-0001"


def test_admission_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        Admission(slots=0, queue=0, queue_timeout_s=1, query_timeout_s=1, registry=CollectorRegistry())
