"""``GET /documents`` and ``GET /documents/{doc_id}``; a doc_id may hold slashes (``guide/install``).

Ingest names a document by its path under the corpus folder, so ids like ``guide/install`` are
normal. The id is matched by the ``doc_id`` path convertor: any characters, slashes included
(sent as they are or encoded as ``%2F``), but neither first nor last, so ``/documents/`` and
``/documents/x/`` still get the trailing-slash redirect every other route gets.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.convertors import Convertor, register_url_convertor

from service.deps import ServedDep
from service.openapi import ERROR_RESPONSES, NOT_READY, UNAUTHORIZED, error_response
from service.operations import list_documents as listed_documents
from service.operations import read_document
from service.schemas import DOC_ID_MAX_CHARS, OFFSET_MAX, DocumentDetail, DocumentSummary


class DocIdConvertor(Convertor[str]):
    """A doc_id in a URL path: slashes inside allowed, none first or last."""

    regex = r"[^/](?:.*[^/])?"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


# Starlette keeps convertors in one table by name; registering the same one again is harmless.
register_url_convertor("doc_id", DocIdConvertor())

DocId = Annotated[str, Path(min_length=1, max_length=DOC_ID_MAX_CHARS)]
PageNumber = Annotated[int | None, Query(ge=1, le=OFFSET_MAX, description=(
    "Only this page of a PDF (from 1): ``text`` is the page's text and ``page`` says where it lies."))]
DOCUMENT_PATH = "/documents/{doc_id:doc_id}"
"""The template; OpenAPI and the metrics show it as ``/documents/{doc_id}``."""


def list_documents(served: ServedDep) -> list[DocumentSummary]:
    """Every indexed document, sorted by doc_id."""
    return listed_documents(served)


def get_document(doc_id: DocId, served: ServedDep, page: PageNumber = None) -> DocumentDetail:
    """A document's metadata and the full text that passage and citation offsets index (or one PDF page of it)."""
    return read_document(doc_id, served, page)


def register(router: APIRouter) -> None:
    """Add the document routes to ``router``."""
    router.add_api_route("/documents", list_documents, methods=["GET"], tags=["documents"],
                         responses={401: UNAUTHORIZED, 503: NOT_READY})
    router.add_api_route(
        DOCUMENT_PATH, get_document, methods=["GET"], tags=["documents"],
        responses={
            401: UNAUTHORIZED,
            404: error_response("Unknown doc_id (code unknown_document), or a page it does not have "
                                "(code unknown_page)."),
            422: ERROR_RESPONSES[422],
            503: NOT_READY,
        },
    )
