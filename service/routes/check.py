"""``POST /check``: claim-level grounding verdicts on an answer, under admission control."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter

from service.deps import AdmissionDep, MetricsDep, ServedDep
from service.mapping import to_check_response
from service.openapi import CHECK_RESPONSES
from service.operations import check_citations, run_check
from service.schemas import CheckRequest, CheckResponse

CHECK_PATH = "/check"


async def check(body: CheckRequest, served: ServedDep, admission: AdmissionDep, metrics: MetricsDep) -> CheckResponse:
    """Say which answer sentences the cited (or retrieved) evidence supports, and why not."""
    check_citations(body.answer.citations, served)
    # Encoding the sentences and comparing evidence is CPU work: on admission's query threads.
    result = await admission.run(partial(run_check, body, served.engine))
    metrics.observe_check(result)
    return to_check_response(result)


def register(router: APIRouter) -> None:
    """Add ``POST /check`` to ``router``."""
    router.add_api_route(CHECK_PATH, check, methods=["POST"], tags=["check"], responses=CHECK_RESPONSES)
