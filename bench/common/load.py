"""Load against ``POST /query`` on the lean client: closed-loop clients, open-loop rates, background load.

Latency is measured from the moment a request was due (its scheduled time in open loop), so a slow
server cannot hide queueing by slowing the client down (coordinated omission). Every loop is
bounded by a deadline; nothing here retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from bench.common.http import Pool, ProtocolError, Response, run_async
from bench.common.stats import summarise


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One request as the client saw it.

    ``status`` is 0 when no HTTP response arrived; ``failure`` then says why (``timeout``,
    ``connection`` or ``protocol``). ``due`` is seconds since the run started at which the request
    was due, ``latency_ms`` runs from then to the last byte of the response.
    """

    due: float
    latency_ms: float
    status: int
    failure: str = ""
    index_version: str | None = None
    error_code: str | None = None
    retry_after: str | None = None


def to_outcome(due: float, latency_ms: float, response: Response) -> Outcome:
    """Read the fields the checks need from a ``/query`` response."""
    version = code = None
    if response.body[:1] == b"{":
        try:
            payload = json.loads(response.body)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            version = payload.get("index_version")
            error = payload.get("error")
            if isinstance(error, dict):
                code = error.get("code")
    return Outcome(due=due, latency_ms=latency_ms, status=response.status,
                   index_version=version if isinstance(version, str) else None,
                   error_code=code if isinstance(code, str) else None,
                   retry_after=response.headers.get("retry-after"))


def _failure(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionError | asyncio.IncompleteReadError | OSError):
        return "connection"
    return "protocol"


class QueryLoad:
    """Bodies for ``POST /query``: questions drawn from a pool, in a seeded order."""

    def __init__(self, host: str, port: int, questions: Sequence[str], *, seed: int = 0,
                 top_k: int = 5, timeout: float = 30.0, headers: dict[str, str] | None = None) -> None:
        if not questions:
            raise ValueError("need at least one question")
        self.host = host
        self.port = port
        self.timeout = timeout
        self.headers = headers
        rng = random.Random(seed)  # noqa: S311 -- seeded test data, not secrets
        self._bodies = [json.dumps({"question": question, "top_k": top_k}).encode("utf-8")
                        for question in questions]
        rng.shuffle(self._bodies)
        self._next = 0

    def body(self) -> bytes:
        """The next request body (round robin over the shuffled pool)."""
        body = self._bodies[self._next % len(self._bodies)]
        self._next += 1
        return body

    async def send(self, pool: Pool, due: float, origin: float) -> Outcome:
        """One query, never raising: transport failures become an ``Outcome`` with status 0."""
        body = self.body()
        try:
            response = await pool.call("POST", "/query", body, self.headers, self.timeout)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ProtocolError, ValueError) as error:
            latency = (time.perf_counter() - origin - due) * 1000
            return Outcome(due=due, latency_ms=latency, status=0, failure=_failure(error))
        return to_outcome(due, (time.perf_counter() - origin - due) * 1000, response)


async def _closed_loop(load: QueryLoad, *, clients: int, seconds: float, stop: threading.Event | None,
                       requests: int | None, origin: float | None) -> tuple[list[Outcome], float]:
    pool = Pool(load.host, load.port, clients)
    outcomes: list[Outcome] = []
    origin = time.perf_counter() if origin is None else origin
    deadline = time.perf_counter() + seconds
    budget = [requests if requests is not None else math.inf]

    async def client() -> None:
        while time.perf_counter() < deadline and not (stop is not None and stop.is_set()) and budget[0] > 0:
            budget[0] -= 1
            outcomes.append(await load.send(pool, time.perf_counter() - origin, origin))

    try:
        await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        pool.close()
    return outcomes, time.perf_counter() - origin


def closed_loop(load: QueryLoad, *, clients: int, seconds: float, stop: threading.Event | None = None,
                requests: int | None = None, origin: float | None = None) -> tuple[list[Outcome], float]:
    """``clients`` concurrent clients, each sending its next query when the last one answered.

    Runs until ``seconds`` pass, ``stop`` is set or ``requests`` were sent; returns the outcomes
    and the wall time since ``origin`` (a ``time.perf_counter()`` value; default: the start), from
    which ``Outcome.due`` counts too. Safe to call from any thread (it runs its own event loop).
    """
    return run_async(_closed_loop(load, clients=clients, seconds=seconds, stop=stop, requests=requests,
                                  origin=origin))


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenLoopRun:
    """What an open-loop run sent and saw, plus the sequential probes that followed it."""

    outcomes: tuple[Outcome, ...]
    sent_seconds: float
    late_sends: int
    probes: tuple[Outcome, ...]
    drain_seconds: float
    baseline_probes: tuple[Outcome, ...]
    """The same lone client's probes before the load: what "normal latency" is for the probes."""
    late_by_second: dict[str, float]
    """Per second of the run (when due): the worst lateness of a send, in ms, where it passed 50 ms."""


async def _open_loop(load: QueryLoad, *, rate: float, seconds: float, connections: int,
                     probe_seconds: float, probe_interval: float, baseline_seconds: float) -> OpenLoopRun:
    pool = Pool(load.host, load.port, connections)
    probe_pool = Pool(load.host, load.port, 1)
    baseline = await _probe(load, probe_pool, baseline_seconds, probe_interval)
    origin = time.perf_counter()
    tasks: list[asyncio.Task[Outcome]] = []
    late = 0
    late_by_second: dict[str, float] = {}
    total = int(rate * seconds)
    with no_collection():
        for number in range(total):
            due = number / rate
            delay = origin + due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.05:
                late += 1
                second = str(int(due))
                late_by_second[second] = round(max(late_by_second.get(second, 0.0), -delay * 1000), 1)
            tasks.append(asyncio.create_task(load.send(pool, due, origin)))
    sent = time.perf_counter() - origin
    # Probe right away, while the backlog drains: how soon does a lone query get normal latency?
    probes = await _probe(load, probe_pool, probe_seconds, probe_interval)
    outcomes = await asyncio.gather(*tasks)
    drain = time.perf_counter() - origin - sent
    pool.close()
    probe_pool.close()
    return OpenLoopRun(outcomes=tuple(outcomes), sent_seconds=sent, late_sends=late,
                       probes=tuple(probes), drain_seconds=drain, late_by_second=late_by_second,
                       baseline_probes=tuple(baseline))


async def _probe(load: QueryLoad, pool: Pool, seconds: float, interval: float) -> list[Outcome]:
    """One client sending a query every ``interval`` seconds for ``seconds`` (due times from the start)."""
    probes: list[Outcome] = []
    origin = time.perf_counter()
    while time.perf_counter() - origin < seconds:
        due = time.perf_counter() - origin
        probes.append(await load.send(pool, due, origin))
        await asyncio.sleep(max(0.0, interval - probes[-1].latency_ms / 1000))
    return probes


@contextlib.contextmanager
def no_collection() -> Iterator[None]:
    """No cyclic garbage collection in the load generator while it sends (bounded runs only).

    A full collection of the client's heap (tens of thousands of finished tasks and outcomes)
    stalled it for 414 ms in a steady-load run; the requests due meanwhile then left in one burst,
    and the burst, not the rate, filled the server's queue. What the runs allocate is freed by
    reference counting or collected right after.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()


def open_loop(load: QueryLoad, *, rate: float, seconds: float, connections: int = 512,
              probe_seconds: float = 0.0, probe_interval: float = 0.1,
              baseline_seconds: float = 0.0) -> OpenLoopRun:
    """Send queries at a fixed ``rate`` per second for ``seconds``, whatever the answers take.

    Before, one client probes alone for ``baseline_seconds``; afterwards the same client probes
    sequentially for ``probe_seconds`` (every ``probe_interval``)
    while outstanding requests drain. Every request gives up after the load's timeout.
    """
    if rate <= 0 or seconds <= 0:
        raise ValueError(f"rate and seconds must be positive, got {rate} and {seconds}")
    return run_async(_open_loop(load, rate=rate, seconds=seconds, connections=connections,
                                probe_seconds=probe_seconds, probe_interval=probe_interval,
                                baseline_seconds=baseline_seconds))


def latency_summary(outcomes: Sequence[Outcome], predicate: Callable[[Outcome], bool]) -> dict[str, float | int]:
    """Latency percentiles (ms) of the outcomes that satisfy ``predicate``."""
    return summarise([outcome.latency_ms for outcome in outcomes if predicate(outcome)]).as_dict()


def status_counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Counts by status (``"200"``, ``"503"``, ...) and by failure (``"timeout"``, ...)."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        key = str(outcome.status) if outcome.status else outcome.failure
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


class BackgroundLoad:
    """Closed-loop clients on a thread while the caller does something else; use as a context manager.

    ``origin`` is the ``time.perf_counter()`` value that ``Outcome.due`` counts from, so the caller
    can relate outcomes to its own actions (``self.now()``).
    """

    def __init__(self, load: QueryLoad, *, clients: int, max_seconds: float) -> None:
        self.origin = time.perf_counter()
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()

        def run() -> None:
            outcomes, _ = closed_loop(load, clients=clients, seconds=max_seconds, stop=self._stop, origin=self.origin)
            self.outcomes.extend(outcomes)

        self._thread = threading.Thread(target=run, name="reliability-load", daemon=True)
        self._max_seconds = max_seconds

    def now(self) -> float:
        """Seconds since ``origin``."""
        return time.perf_counter() - self.origin

    def __enter__(self) -> BackgroundLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._max_seconds + 60)
