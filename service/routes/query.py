"""``POST /query``: retrieve, answer and cite, under admission control; generated answers and
server-sent events go through ``service.generation``."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from service.deps import AdmissionDep, GenerationDep, MetricsDep, ServedDep
from service.generation import extractive_events, generate, stream_events
from service.mapping import to_response
from service.openapi import QUERY_RESPONSES
from service.operations import check_query, run_query
from service.schemas import QueryRequest, QueryResponse

QUERY_PATH = "/query"
EVENT_STREAM = "text/event-stream"


async def query(body: QueryRequest, served: ServedDep, admission: AdmissionDep, metrics: MetricsDep,
                generation: GenerationDep) -> QueryResponse | StreamingResponse:
    """Retrieve passages and answer with cited sentences (or a checked generated answer), or abstain."""
    # async on purpose: the loop only waits here; embedding and search run on admission's
    # query threads (never on the loop, where FAISS would stall every other request).
    check_query(body, served)
    result = await admission.run(partial(run_query, body, served.engine))
    metrics.observe_result(result)
    if body.answer_mode == "generative":
        if body.stream:
            return StreamingResponse(stream_events(result, served, admission, metrics, generation),
                                     media_type=EVENT_STREAM)
        return await generate(result, served, admission, metrics, generation)
    response = to_response(result)
    if body.stream:
        return StreamingResponse(extractive_events(response), media_type=EVENT_STREAM)
    return response


def register(router: APIRouter) -> None:
    """Add ``POST /query`` to ``router``."""
    router.add_api_route(QUERY_PATH, query, methods=["POST"], tags=["query"], response_model=QueryResponse,
                         responses=QUERY_RESPONSES)
