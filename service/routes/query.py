"""``POST /query``: retrieve, answer and cite, under admission control."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from fastapi import APIRouter

from service.deps import AdmissionDep, MetricsDep, ServedDep
from service.errors import UnknownDocumentError, excerpt
from service.mapping import to_query, to_response
from service.openapi import ERROR_RESPONSES
from service.records import DocumentInfo
from service.schemas import QueryRequest, QueryResponse

QUERY_PATH = "/query"


async def query(body: QueryRequest, served: ServedDep, admission: AdmissionDep, metrics: MetricsDep) -> QueryResponse:
    """Retrieve passages and answer with cited sentences, or abstain with a reason."""
    # async on purpose: the loop only waits here; embedding and search run on admission's
    # query threads (never on the loop, where FAISS would stall every other request).
    if body.filters is not None:
        check_known_documents(body.filters.doc_ids, served.documents)
    result = await admission.run(partial(served.engine.query, to_query(body)))
    metrics.observe_result(result)
    return to_response(result)


def check_known_documents(doc_ids: list[str], known: Mapping[str, DocumentInfo]) -> None:
    """Refuse a filter naming a document that is not indexed: it would silently match nothing."""
    unknown = [(position, doc_id) for position, doc_id in enumerate(doc_ids) if doc_id not in known]
    if unknown:
        named = ", ".join(f"[{position}] {excerpt(doc_id)}" for position, doc_id in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise UnknownDocumentError(
            f"filters.doc_ids names documents that are not indexed: {named}{more}; "
            "GET /documents lists the indexed doc_ids"
        )


def register(router: APIRouter) -> None:
    """Add ``POST /query`` to ``router``."""
    router.add_api_route(QUERY_PATH, query, methods=["POST"], tags=["query"], responses=ERROR_RESPONSES)
