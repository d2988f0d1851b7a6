"""Pure conversions between the wire schema (``schemas``) and the internal records (``records``)."""

from __future__ import annotations

from collections.abc import Sequence

from grounding import CheckResult, SentenceCheck, VerifierReading
from grounding import Citation as GroundingCitation
from ranking import Answer
from service.generative import GeneratedAnswer
from service.records import DocumentInfo, Passage, Query, QueryResult, Timings
from service.schemas import (
    Abstention,
    AnswerBody,
    AnswerCitation,
    CheckCitation,
    CheckResponse,
    DocumentDetail,
    DocumentSummary,
    EvidenceBody,
    PageSpan,
    PassageBody,
    PassageCitation,
    QueryRequest,
    QueryResponse,
    ReasonBody,
    SentenceVerdict,
    TimingsBody,
    VerifierBody,
    VerifierProbabilities,
)

# Used when an engine abstains without saying why; the wire contract always gives a reason.
UNSTATED_ABSTENTION_REASON = "the engine found no answer it could support with a citation"


def to_query(request: QueryRequest) -> Query:
    """The engine's query for a validated request body."""
    doc_ids = tuple(request.filters.doc_ids) if request.filters is not None else None
    return Query(question=request.question, top_k=request.top_k, mode=request.mode, doc_ids=doc_ids)


def to_response(result: QueryResult) -> QueryResponse:
    """The wire body for an engine result; ``abstention`` is set exactly when ``answer`` is None."""
    abstention = None
    if result.answer is None:
        abstention = Abstention(reason=result.abstention_reason or UNSTATED_ABSTENTION_REASON)
    return QueryResponse(
        question=result.question,
        answer=_answer_body(result.answer) if result.answer is not None else None,
        abstention=abstention,
        passages=[_passage_body(passage) for passage in result.passages],
        index_version=result.index_version,
        timings_ms=_timings_body(result.timings),
        ranker=result.ranker,
    )


def to_citations(citations: list[CheckCitation]) -> tuple[GroundingCitation, ...]:
    """The checker's citations for a validated ``POST /check`` body."""
    return tuple(GroundingCitation(doc_id=citation.doc_id, start_char=citation.start_char,
                                   end_char=citation.end_char) for citation in citations)


def to_check_response(result: CheckResult) -> CheckResponse:
    """The wire body for the checker's verdicts."""
    return CheckResponse(sentences=[to_sentence_verdict(check) for check in result.sentences],
                         supported_share=float(result.supported_share))


def to_sentence_verdict(check: SentenceCheck) -> SentenceVerdict:
    """One sentence's verdict, evidence and reasons on the wire."""
    evidence = check.evidence
    return SentenceVerdict(
        text=check.text,
        start=int(check.start),
        end=int(check.end),
        verdict=check.verdict,
        score=float(check.score),
        evidence=EvidenceBody(doc_id=evidence.doc_id, start_char=int(evidence.start_char),
                              end_char=int(evidence.end_char), text=evidence.text,
                              pages=_pages(evidence.pages)) if evidence else None,
        reasons=[ReasonBody(code=reason.code, message=reason.message) for reason in check.reasons],
        rules_verdict=check.rules_verdict,
        verifier=to_verifier_body(check.verifier) if check.verifier else None,
        disagreement=check.disagreement,
    )


def to_verifier_body(reading: VerifierReading) -> VerifierBody:
    """The verifier's reading of one sentence on the wire."""
    window = reading.window
    supported, contradicted, not_enough_info = reading.probabilities
    return VerifierBody(
        label=reading.label,
        probabilities=VerifierProbabilities(supported=supported, contradicted=contradicted,
                                            not_enough_info=not_enough_info),
        model=reading.model,
        window=EvidenceBody(doc_id=window.doc_id, start_char=int(window.start_char), end_char=int(window.end_char),
                            text=window.text))


def to_generated_response(result: QueryResult, generated: GeneratedAnswer) -> QueryResponse:
    """The wire body of a generated answer: the retrieval's passages, the checked answer, verdicts."""
    body = to_response(QueryResult(
        question=result.question, answer=generated.answer, abstention_reason=None,
        passages=result.passages, index_version=result.index_version, timings=result.timings,
        cached=result.cached, answer_score=result.answer_score))
    return body.model_copy(update={
        "answer_mode": "generative",
        "sentences": [to_sentence_verdict(check) for check in generated.sentences]})


def to_fallback_response(result: QueryResult, reason: str) -> QueryResponse:
    """The extractive body of a generative request, saying why it is not generated."""
    return to_response(result).model_copy(update={"answer_mode": "extractive", "fallback_reason": reason})


def to_document_summary(info: DocumentInfo) -> DocumentSummary:
    """One entry of the document list."""
    return DocumentSummary(doc_id=info.doc_id, title=info.title, source=info.source, chunk_count=info.chunk_count)


def to_document_detail(info: DocumentInfo, text: str, pages: Sequence[int] = (),
                       page: int | None = None) -> DocumentDetail:
    """A document's metadata with the text its offsets point into; with ``page``, only that page's text.

    ``pages`` are the document's page starts (``Document.pages``). Raises ``ValueError`` naming the
    page count when ``page`` is not one of its pages.
    """
    spans = [PageSpan(page=number, start_char=start, end_char=end)
             for number, (start, end) in enumerate(_page_spans(pages, len(text)), 1)]
    chosen = None
    if page is not None:
        if not 1 <= page <= len(spans):
            raise ValueError(f"page {page} is not a page of {info.doc_id!r}: it has "
                             + (f"{len(spans)} pages (1 to {len(spans)})" if spans else "no pages (not a PDF)"))
        chosen = spans[page - 1]
    return DocumentDetail(
        doc_id=info.doc_id,
        title=info.title,
        source=info.source,
        chunk_count=info.chunk_count,
        text=text if chosen is None else text[chosen.start_char : chosen.end_char],
        pages=spans or None,
        page=chosen,
    )


def _page_spans(pages: Sequence[int], text_length: int) -> list[tuple[int, int]]:
    """``(start, end)`` of every page; [] for a document without pages."""
    if not pages:
        return []
    return list(zip(pages, [*pages[1:], text_length], strict=True))


def _pages(pages: Sequence[int]) -> list[int] | None:
    """A citation's pages on the wire: left out for a document without pages."""
    return [int(number) for number in pages] or None


def _answer_body(answer: Answer) -> AnswerBody:
    # int()/float() accept numpy scalars, which an engine may hand over from faiss or numpy.
    return AnswerBody(
        text=answer.text,
        citations=[
            AnswerCitation(
                doc_id=citation.doc_id,
                start_char=int(citation.start),
                end_char=int(citation.end),
                text=citation.text,
                passage_rank=int(citation.passage_rank),
                pages=_pages(citation.pages),
            )
            for citation in answer.citations
        ],
    )


def _passage_body(passage: Passage) -> PassageBody:
    return PassageBody(
        rank=int(passage.rank),
        score=float(passage.score),
        text=passage.text,
        citation=PassageCitation(
            doc_id=passage.doc_id,
            title=passage.title,
            source=passage.source,
            chunk_id=passage.chunk_id,
            start_char=int(passage.start),
            end_char=int(passage.end),
            pages=_pages(passage.pages),
        ),
    )


def _timings_body(timings: Timings) -> TimingsBody:
    return TimingsBody(
        embed=float(timings.embed),
        search=float(timings.search),
        rescore=float(timings.rescore),
        answer=float(timings.answer),
        total=float(timings.total),
    )
