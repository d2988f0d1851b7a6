"""Prometheus metrics of the service, on a registry owned by one app (no global state)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grounding import CheckResult
from service.records import QueryResult

UNMATCHED_ROUTE = "<unmatched>"
# Any other method (h11 accepts arbitrary tokens) shares one label so clients cannot mint series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# From half a millisecond (a cached answer) to ten seconds (a cold model on a busy machine).
STAGE_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
STAGES = ("embed", "search", "rescore", "answer", "total")


class Metrics:
    """Request, per-stage and index metrics; ``render`` gives the exposition text."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "grounded_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "grounded_http_request_duration_seconds",
            "Time from request to the end of the response, by method, route template and status.",
            labels,
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "grounded_query_stage_duration_seconds",
            "Engine time per stage of uncached queries (from the result's timings).",
            ("stage",),
            buckets=STAGE_BUCKETS,
            registry=self.registry,
        )
        self.query_results = Counter(
            "grounded_query_results",
            "Query results by outcome (answered or abstained) and whether the cache served them.",
            ("outcome", "cached"),
            registry=self.registry,
        )
        self.checked_sentences = Counter(
            "grounded_checked_sentences",
            "Answer sentences checked (POST /check and generated answers), by verdict.",
            ("verdict",),
            registry=self.registry,
        )
        self.generated_answers = Counter(
            "grounded_generated_answers",
            "Generative requests by outcome: generated, or the fallback's cause (not_configured, "
            "no_passages, timeout, error, malformed, unsupported).",
            ("outcome",),
            registry=self.registry,
        )
        self.index_info = Gauge(
            "grounded_index_info",
            "The index version being served (value 1).",
            ("index_version",),
            registry=self.registry,
        )
        self.ready = Gauge("grounded_ready", "1 once the engine is loaded and warmed up.", registry=self.registry)
        self.startup_seconds = Gauge(
            "grounded_startup_duration_seconds",
            "Seconds from start-up to ready (engine load and warm-up).",
            registry=self.registry,
        )

    def observe_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        method_label = method if method in KNOWN_METHODS else "OTHER"
        labels = {"method": method_label, "route": route, "status": str(status)}
        self.requests.labels(**labels).inc()
        self.request_seconds.labels(**labels).observe(seconds)

    def observe_result(self, result: QueryResult) -> None:
        """Record a query's outcome and, unless it came from the cache, its stage timings."""
        outcome = "answered" if result.answer is not None else "abstained"
        self.query_results.labels(outcome=outcome, cached=str(result.cached).lower()).inc()
        if result.cached:
            return  # a cache hit did not run the stages; its timings would skew them
        timings = result.timings
        for stage, milliseconds in zip(
            STAGES,
            (timings.embed, timings.search, timings.rescore, timings.answer, timings.total),
            strict=True,
        ):
            self.stage_seconds.labels(stage=stage).observe(milliseconds / 1000)

    def observe_check(self, result: CheckResult) -> None:
        """Count a checked answer's sentences by verdict."""
        for sentence in result.sentences:
            self.checked_sentences.labels(verdict=sentence.verdict).inc()

    def observe_generation(self, outcome: str) -> None:
        """Count one generative request by outcome."""
        self.generated_answers.labels(outcome=outcome).inc()

    def mark_ready(self, *, index_version: str, startup_seconds: float) -> None:
        """Publish the served index version and the start-up time."""
        self.index_info.clear()
        self.index_info.labels(index_version=index_version).set(1)
        self.startup_seconds.set(startup_seconds)
        self.ready.set(1)

    def mark_not_ready(self) -> None:
        """Readiness is gone (shutting down)."""
        self.ready.set(0)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def route_template(scope: Scope, routes: Sequence[BaseRoute]) -> str:
    """The path template (``/documents/{doc_id}``) a request matched, never the raw path.

    The router records the route in the scope; a request refused before routing (413) is matched
    here against the same routes.
    """
    route = scope.get("route")
    if route is None:
        partial = None
        for candidate in routes:
            match, _ = candidate.matches(scope)
            if match is Match.FULL:
                route = candidate
                break
            if match is Match.PARTIAL and partial is None:
                partial = candidate
        route = route or partial
    # path_format drops convertors: "/documents/{doc_id:doc_id}" is labelled "/documents/{doc_id}".
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class MetricsMiddleware:
    """Count every HTTP request by route template and status, including 413s and crashes."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time the request to the last body chunk; a crash before any response counts as 500."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self.metrics.observe_request(
                    method=scope["method"],
                    route=route_template(scope, self.routes),
                    status=status,
                    seconds=time.perf_counter() - started,
                )

        async def send_and_observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                record()

        try:
            await self.app(scope, receive, send_and_observe)
        finally:
            record()
