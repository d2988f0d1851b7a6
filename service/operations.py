"""The operations every surface offers, written once: HTTP routes, the Python API and the MCP tools.

Each operation is a request in the wire schema (``service.schemas``), checked against the served
index (cheap; the HTTP routes do it on the event loop), then the engine's work (CPU; the callers
run it where they run CPU work: admission's query threads, or the caller's own thread in the
Python API), then the wire body (``service.mapping``). The checks raise ``service.errors`` whose
messages say what to fix; the HTTP layer turns them into their 4xx, the Python API raises them as
they are and the MCP tools answer them as tool errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from grounding import CheckResult, CitationError
from service.engine_protocol import QueryEngineProtocol
from service.errors import (
    InvalidCitationError,
    InvalidRequestError,
    UnknownDocumentError,
    UnknownPageError,
    describe_validation_errors,
    excerpt,
)
from service.mapping import to_citations, to_document_detail, to_document_summary, to_query
from service.records import DocumentInfo, QueryResult
from service.reload import Served
from service.schemas import (
    CheckCitation,
    CheckRequest,
    DocumentDetail,
    DocumentExcerpt,
    DocumentSummary,
    QueryRequest,
)

Model = TypeVar("Model", bound=BaseModel)

LIST_DOCUMENTS = "the document list (GET /documents, Index.documents(), MCP resource grounded://documents)"
"""Where every surface lists the indexed doc_ids; error messages point there."""


def validated(model: type[Model], fields: Mapping[str, object]) -> Model:
    """``model`` built from ``fields`` with the HTTP body's rules, or ``InvalidRequestError`` saying which broke."""
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise InvalidRequestError(describe_validation_errors(error.errors())) from error


def query_request(question: str, *, top_k: int = 5, mode: str = "hybrid",
                  doc_ids: Sequence[str] | None = None) -> QueryRequest:
    """The ``POST /query`` body for keyword arguments, held to the same rules (``InvalidRequestError``)."""
    fields: dict[str, object] = {"question": question, "top_k": top_k, "mode": mode}
    if doc_ids is not None:
        # A lone string would be read as its characters; the schema wants a list.
        fields["filters"] = {"doc_ids": [doc_ids] if isinstance(doc_ids, str) else list(doc_ids)}
    return validated(QueryRequest, fields)


def check_request(text: str, citations: Sequence[Mapping[str, object]] = (), *,
                  question: str | None = None) -> CheckRequest:
    """The ``POST /check`` body for an answer and its cited ranges, held to the same rules."""
    fields: dict[str, object] = {"answer": {"text": text, "citations": [dict(citation) for citation in citations]}}
    if question is not None:
        fields["question"] = question
    return validated(CheckRequest, fields)


def check_known_documents(doc_ids: Sequence[str], known: Mapping[str, DocumentInfo]) -> None:
    """Refuse a filter naming a document that is not indexed: it would silently match nothing."""
    unknown = [(position, doc_id) for position, doc_id in enumerate(doc_ids) if doc_id not in known]
    if unknown:
        named = ", ".join(f"[{position}] {excerpt(doc_id)}" for position, doc_id in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise UnknownDocumentError(
            f"filters.doc_ids names documents that are not indexed: {named}{more}; {LIST_DOCUMENTS} names them"
        )


def check_query(request: QueryRequest, served: Served) -> None:
    """Refuse what the schema cannot see: a filter naming a document that is not indexed (404)."""
    if request.filters is not None:
        check_known_documents(request.filters.doc_ids, served.documents)


def run_query(request: QueryRequest, engine: QueryEngineProtocol) -> QueryResult:
    """Retrieve, rescore and answer (CPU: run it off the event loop)."""
    return engine.query(to_query(request))


def check_citations(citations: Sequence[CheckCitation], served: Served) -> None:
    """Refuse a citation of an unindexed document (404) or a range outside its text (422)."""
    for position, citation in enumerate(citations):
        where = f"answer.citations[{position}]"
        text = served.engine.document_text(citation.doc_id) if citation.doc_id in served.documents else None
        if text is None:
            raise UnknownDocumentError(
                f"{where}.doc_id names a document that is not indexed: {excerpt(citation.doc_id)}; "
                f"{LIST_DOCUMENTS} names the indexed doc_ids"
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


def run_check(request: CheckRequest, engine: QueryEngineProtocol) -> CheckResult:
    """The checker's verdicts on every answer sentence (CPU: run it off the event loop)."""
    try:
        return engine.check(request.answer.text, to_citations(request.answer.citations), request.question)
    except CitationError as error:  # the checker's own validation: a backstop for check_citations
        raise InvalidCitationError(str(error)) from error


def list_documents(served: Served) -> list[DocumentSummary]:
    """Every indexed document, sorted by doc_id."""
    documents = served.documents
    return [to_document_summary(documents[doc_id]) for doc_id in sorted(documents)]


def read_document(doc_id: str, served: Served, page: int | None = None) -> DocumentDetail:
    """A document's metadata and the full text every offset points into, or (``page``) one PDF page
    of it; ``UnknownDocumentError`` for an unknown doc_id, ``UnknownPageError`` for a page it lacks."""
    info = served.documents.get(doc_id)
    text = served.engine.document_text(doc_id) if info is not None else None
    if info is None or text is None:
        raise UnknownDocumentError(f"no document has doc_id {excerpt(doc_id)}; {LIST_DOCUMENTS} names them")
    try:
        return to_document_detail(info, text, served.engine.document_pages(doc_id), page)
    except ValueError as error:
        raise UnknownPageError(f"{error}; the document without a page lists its pages") from error


def read_excerpt(doc_id: str, served: Served, *, start_char: int = 0, end_char: int | None = None,
                 page: int | None = None, max_chars: int) -> DocumentExcerpt:
    """``text[start_char:end_char]`` of a document, at most ``max_chars`` of it (``truncated`` says so).

    ``end_char`` past the end (or None) stops at the end, as a slice does; a start at or past the end,
    or an end not after the start, is ``InvalidRequestError``. With ``page`` (a PDF's page number),
    the range is that page's (``start_char`` and ``end_char`` may then only narrow it within the page:
    they count from the start of the document, as citations do); ``UnknownPageError`` for a page the
    document does not have.
    """
    if page is not None:
        span = read_document(doc_id, served, page).page
        if span is not None:
            start_char = max(start_char, span.start_char)
            end_char = span.end_char if end_char is None else min(end_char, span.end_char)
    document = read_document(doc_id, served)
    length = len(document.text)
    end = length if end_char is None else min(end_char, length)
    if not 0 <= start_char < length or end <= start_char:
        raise InvalidRequestError(
            f"the range {start_char}-{end_char if end_char is not None else 'end'} is not inside the text of "
            f"{excerpt(doc_id)} (0-{length}); give 0 <= start_char < end_char, start_char < {length}"
        )
    stop = min(end, start_char + max_chars)
    return DocumentExcerpt(doc_id=document.doc_id, title=document.title, source=document.source,
                           document_chars=length, start_char=start_char, end_char=stop,
                           text=document.text[start_char:stop], truncated=stop < end)
