"""``POST /check``: claim-level grounding verdicts on an answer, under admission control."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from fastapi import APIRouter

from grounding.errors import CitationError
from service.deps import AdmissionDep, MetricsDep, ServedDep
from service.errors import InvalidCitationError, UnknownDocumentError, excerpt
from service.mapping import to_check_response, to_citations
from service.openapi import CHECK_RESPONSES
from service.reload import Served
from service.schemas import CheckCitation, CheckRequest, CheckResponse

CHECK_PATH = "/check"


async def check(body: CheckRequest, served: ServedDep, admission: AdmissionDep, metrics: MetricsDep) -> CheckResponse:
    """Say which answer sentences the cited (or retrieved) evidence supports, and why not."""
    check_citations(body.answer.citations, served)
    citations = to_citations(body.answer.citations)
    try:
        # Encoding the sentences and comparing evidence is CPU work: on admission's query threads.
        result = await admission.run(partial(served.engine.check, body.answer.text, citations, body.question))
    except CitationError as error:  # the checker's own validation: a backstop for the one above
        raise InvalidCitationError(str(error)) from error
    metrics.observe_check(result)
    return to_check_response(result)


def check_citations(citations: Sequence[CheckCitation], served: Served) -> None:
    """Refuse a citation of an unindexed document (404) or a range outside its text (422)."""
    for position, citation in enumerate(citations):
        where = f"answer.citations[{position}]"
        text = served.engine.document_text(citation.doc_id) if citation.doc_id in served.documents else None
        if text is None:
            raise UnknownDocumentError(
                f"{where}.doc_id names a document that is not indexed: {excerpt(citation.doc_id)}; "
                "GET /documents lists the indexed doc_ids"
            )
        if citation.start_char >= citation.end_char:
            empty = "is the same as" if citation.start_char == citation.end_char else "is after"
            raise InvalidCitationError(
                f"{where}: start_char {citation.start_char} {empty} end_char {citation.end_char}, so the range "
                f"cites nothing; give start_char < end_char (the cited text is text[start_char:end_char])"
            )
        if citation.end_char > len(text):
            raise InvalidCitationError(
                f"{where}: the range {citation.start_char}-{citation.end_char} is not inside the text of "
                f"{excerpt(citation.doc_id)} (0-{len(text)}); give 0 <= start_char < end_char <= {len(text)}"
            )


def register(router: APIRouter) -> None:
    """Add ``POST /check`` to ``router``."""
    router.add_api_route(CHECK_PATH, check, methods=["POST"], tags=["check"], responses=CHECK_RESPONSES)
