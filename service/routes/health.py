"""Operations routes: liveness, readiness and the Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response

from service.deps import MetricsDep, ServedDep
from service.openapi import NOT_READY
from service.schemas import HealthResponse, ReadyResponse


async def health() -> HealthResponse:
    """Liveness: answers as soon as the process serves HTTP."""
    return HealthResponse()


async def ready(served: ServedDep) -> ReadyResponse:
    """Readiness: 200 once the engine is loaded and answered its warm-up query, else 503."""
    return ReadyResponse(index_version=served.engine.index_version)


async def prometheus_metrics(metrics: MetricsDep) -> Response:
    """Prometheus exposition text."""
    content, media_type = metrics.render()
    return Response(content, media_type=media_type)


def register(router: APIRouter) -> None:
    """Add ``/health``, ``/ready`` and ``/metrics`` to ``router``."""
    router.add_api_route("/health", health, methods=["GET"], tags=["operations"])
    router.add_api_route("/ready", ready, methods=["GET"], tags=["operations"], responses={503: NOT_READY})
    router.add_api_route("/metrics", prometheus_metrics, methods=["GET"], include_in_schema=False)
