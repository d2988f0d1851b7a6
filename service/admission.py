"""Admission control: a fixed number of queries computed at once, a short bounded queue, a deadline.

Why not uvicorn's ``--limit-concurrency``: it counts connections, not work, and answered 503 to
a whole 60-connection burst (FACTS.md). Here the work itself is counted.

How: a dedicated thread pool with exactly ``slots`` workers computes the queries, so no more than
``slots`` ever run, whatever else happens. The event loop admits a request by bumping a counter
under a lock and submitting the work; a request that finds ``slots + queue`` already admitted is
refused at once (a lock and a comparison: microseconds, and no thread of any pool is taken).
Under overload the HTTP edge asks ``full`` before anything else and answers ``refuse()``'s error
itself (``service.early_refusal``), so most refusals never reach ``run``.
Waiting for a slot costs a coroutine, not a thread. A request still queued after
``queue_timeout_s`` is taken off the queue and refused (503). A query still running at
``query_timeout_s`` (counted from admission) answers 504 at the deadline, but its slot stays taken
until the worker really returns: FAISS and torch calls cannot be interrupted, so freeing the slot
early would let more computations run than there are cores. Nothing leaks: the worker's ``finally``
always gives the slot back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge

from service.errors import OverloadedError, QueryTimeoutError

T = TypeVar("T")

# Seconds a refused client should wait: about one query's time on a busy machine.
RETRY_AFTER_SECONDS = 1


class Admission:
    """Runs blocking query work on ``slots`` threads, with at most ``queue`` more waiting."""

    def __init__(
        self,
        *,
        slots: int,
        queue: int,
        queue_timeout_s: float,
        query_timeout_s: float,
        registry: CollectorRegistry,
    ) -> None:
        if slots < 1 or queue < 0:
            raise ValueError(f"admission needs at least one slot and a queue >= 0 (got {slots}, {queue})")
        self.slots = slots
        self.queue = queue
        self.queue_timeout_s = queue_timeout_s
        self.query_timeout_s = query_timeout_s
        # Threads start on first use; an idle app holds none.
        self._executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="grounded-query")
        self._lock = threading.Lock()
        self._queued = 0
        self._running = 0
        in_flight = Gauge(
            "grounded_queries_in_flight",
            "Queries being computed now (including ones whose client already got a 504).",
            registry=registry,
        )
        in_flight.set_function(lambda: self.running)
        queued = Gauge("grounded_queries_queued", "Admitted queries waiting for a slot.", registry=registry)
        queued.set_function(lambda: self.queued)
        self._rejected = Counter(
            "grounded_queries_rejected",
            "Queries refused with 503 overloaded: queue_full (at once) or queue_timeout (after waiting).",
            ("reason",),
            registry=registry,
        )
        self._timeouts = Counter(
            "grounded_query_timeouts", "Queries answered 504 at their deadline.", registry=registry
        )

    @property
    def running(self) -> int:
        """Computations holding a slot now."""
        return self._running

    @property
    def queued(self) -> int:
        """Admitted queries not yet started."""
        return self._queued

    @property
    def full(self) -> bool:
        """True when ``run`` would refuse at once: every slot and every queue place is taken.

        Read without the lock, so the answer can be stale when it is used; ``run`` decides again
        under the lock, so acting on a stale ``False`` only moves the refusal into ``run``.
        """
        return self._running + self._queued >= self.slots + self.queue

    def refuse(self) -> OverloadedError:
        """Count one refusal of a full admission (reason ``queue_full``) and return its error."""
        self._rejected.labels(reason="queue_full").inc()
        return OverloadedError(
            f"the service is at capacity ({self.slots} queries running, {self.queue} waiting); "
            f"retry in {RETRY_AFTER_SECONDS} s"
        )

    async def run(self, work: Callable[[], T]) -> T:
        """``work()`` on a query thread once a slot is free; its result or its exception.

        Raises ``OverloadedError`` when the queue is full or no slot frees up within
        ``queue_timeout_s``, and ``QueryTimeoutError`` when the work has not finished
        ``query_timeout_s`` after admission (the work then finishes in the background).
        """
        admitted = time.monotonic()
        with self._lock:
            if self._running + self._queued >= self.slots + self.queue:
                raise self.refuse()
            self._queued += 1
        future = self._executor.submit(self._compute, work)
        finished = _completion(future)
        try:
            await asyncio.wait({finished}, timeout=min(self.queue_timeout_s, self.query_timeout_s))
            if not future.done() and future.cancel():
                # Still queued: nothing ran, so the client can simply come back later.
                self._dequeue()
                self._rejected.labels(reason="queue_timeout").inc()
                raise OverloadedError(
                    f"no query slot became free within {self.queue_timeout_s:g} s; "
                    f"retry in {RETRY_AFTER_SECONDS} s"
                )
            remaining = self.query_timeout_s - (time.monotonic() - admitted)
            await asyncio.wait({finished}, timeout=max(remaining, 0.0))
            if not future.done():
                self._timeouts.inc()
                raise QueryTimeoutError(
                    f"the query did not finish within {self.query_timeout_s:g} s; "
                    "retry later or ask a shorter question"
                )
            return future.result()
        finally:
            # A request cancelled while queued (client gone, shutdown) must not keep its place.
            # ``cancel`` succeeds only on a pending future, and a cancelled one is ``done``.
            if not future.done() and future.cancel():
                self._dequeue()

    def _compute(self, work: Callable[[], T]) -> T:
        with self._lock:
            self._queued -= 1
            self._running += 1
        try:
            return work()
        finally:
            with self._lock:
                self._running -= 1

    def _dequeue(self) -> None:
        with self._lock:
            self._queued -= 1


def _completion(future: Future[T]) -> asyncio.Future[None]:
    """An asyncio future set when ``future`` finishes, on the current loop.

    Unlike ``asyncio.wrap_future`` it tolerates a loop that closed before an abandoned
    computation finished (the worker then has nobody to tell).
    """
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def mark_done() -> None:
        if not finished.done():
            finished.set_result(None)

    def notify(_: Future[T]) -> None:
        try:
            loop.call_soon_threadsafe(mark_done)
        except RuntimeError:  # the loop is closed: the request is long gone
            return

    future.add_done_callback(notify)
    return finished
