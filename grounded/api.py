"""The Python API: ``open_index`` once, then ask, search, check and read in this process; ``ingest`` builds.

A thin facade over what the HTTP routes call (``service.operations``): the same checks, the same
engine, the same mapping, so every call returns the HTTP response's own model
(``service.schemas``: ``QueryResponse``, ``CheckResponse``, ``DocumentDetail``, ...) and
``response.model_dump(mode="json")`` is the body ``POST /query`` would send. Pydantic models rather
than dataclasses mirroring them: one definition of each shape, so the two cannot drift apart.

Errors are raised, not printed: ``service.errors.InvalidRequestError`` (also a ``ValueError``) for an
argument that breaks the HTTP body's rules, ``UnknownDocumentError`` (404 on HTTP),
``InvalidCitationError`` (422), and for ``open_index`` and ``ingest`` the index and ingest errors
the CLI turns into exit code 2 (``IndexFolderError``, ``ModelMismatchError``, ``CorpusError``,
``OptionError``, ``ModelLoadError``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from index import IngestReport
from service import (
    Abstention,
    AnswerBody,
    AnswerCitation,
    CheckCitation,
    CheckResponse,
    DocumentDetail,
    DocumentSummary,
    EvidenceBody,
    InvalidCitationError,
    InvalidRequestError,
    Mode,
    PassageBody,
    PassageCitation,
    QueryResponse,
    ReasonBody,
    SentenceVerdict,
    Served,
    ServiceError,
    UnknownDocumentError,
    check_citations,
    check_query,
    check_request,
    list_documents,
    query_request,
    read_document,
    run_check,
    run_query,
    serve_engine,
    to_check_response,
    to_response,
)

if TYPE_CHECKING:
    from index import Embedder, QueryRuntime
    from ingest import ChunkingParams
    from service import QueryEngineProtocol

__all__ = [
    "Abstention", "AnswerBody", "AnswerCitation", "CheckCitation", "CheckResponse", "DocumentDetail",
    "DocumentSummary", "EvidenceBody", "Index", "IngestOptions", "IngestReport", "InvalidCitationError",
    "InvalidRequestError", "PassageBody", "PassageCitation", "QueryResponse", "ReasonBody", "SentenceVerdict",
    "ServiceError", "UnknownDocumentError", "ingest", "open_index",
]
"""The Python API and the response types it returns (the face ``grounded`` re-exports them)."""

PathLike = str | os.PathLike[str]
SentenceVectors = Literal["auto", "pooled_from_chunk", "encoded"]
CitationLike = CheckCitation | AnswerCitation | Mapping[str, object]
"""A cited range: ``CheckCitation``, an answer's ``AnswerCitation`` or a mapping with doc_id,
start_char and end_char."""


class Index:
    """An opened index: answers, passages, verdicts and documents, computed in the caller's thread.

    Ready when constructed and thread-safe (the engine's index and model are read-only; its result
    cache takes a lock). It serves the index version it was opened on; open it again to see a newer
    ``grounded ingest``.
    """

    def __init__(self, engine: QueryEngineProtocol) -> None:
        self._served: Served = serve_engine(engine)

    @property
    def index_version(self) -> str:
        """The manifest's version of the opened index (what every response's ``index_version`` names)."""
        return self._served.engine.index_version

    def ask(self, question: str, *, top_k: int = 5, mode: Mode = "hybrid",
            doc_ids: Sequence[str] | None = None) -> QueryResponse:
        """The cited answer to ``question`` (or the abstention and its reason) and the ranked passages.

        ``doc_ids`` restricts retrieval to those documents. The body of ``POST /query``.
        """
        request = query_request(question, top_k=top_k, mode=mode, doc_ids=doc_ids)
        check_query(request, self._served)
        return to_response(run_query(request, self._served.engine))

    def search(self, question: str, *, top_k: int = 5, mode: Mode = "hybrid",
               doc_ids: Sequence[str] | None = None) -> list[PassageBody]:
        """The ranked passages for ``question``, each with its exact citation (``ask`` without the answer)."""
        return self.ask(question, top_k=top_k, mode=mode, doc_ids=doc_ids).passages

    def check(self, answer: str | AnswerBody, citations: Sequence[CitationLike] | None = None, *,
              question: str | None = None) -> CheckResponse:
        """Which sentences of ``answer`` the cited ranges support, each with its evidence and reasons.

        ``answer`` is text, or an ``AnswerBody`` (``ask(...).answer``) whose own citations are used
        unless ``citations`` is given. Without citations, ``question`` retrieves the evidence. The
        body of ``POST /check``.
        """
        if isinstance(answer, AnswerBody):
            text = answer.text
            cited: Sequence[CitationLike] = answer.citations if citations is None else citations
        else:
            text, cited = answer, citations or ()
        request = check_request(text, [_citation_fields(citation) for citation in cited], question=question)
        check_citations(request.answer.citations, self._served)
        return to_check_response(run_check(request, self._served.engine))

    def document(self, doc_id: str, page: int | None = None) -> DocumentDetail:
        """A document's metadata and the full text every offset points into, or with ``page`` one PDF
        page of it (``GET /documents/{doc_id}?page=N``; ``UnknownPageError`` for a page it lacks)."""
        return read_document(doc_id, self._served, page)

    def documents(self) -> list[DocumentSummary]:
        """Every indexed document, sorted by doc_id (``GET /documents``)."""
        return list_documents(self._served)

    def __repr__(self) -> str:
        return f"<grounded.Index {self.index_version[:12]}: {len(self._served.documents)} documents>"


def _citation_fields(citation: CitationLike) -> Mapping[str, object]:
    if isinstance(citation, CheckCitation | AnswerCitation):
        return {"doc_id": citation.doc_id, "start_char": citation.start_char, "end_char": citation.end_char}
    return citation


def open_index(index_dir: PathLike, *, embedder: Embedder | None = None, reader: str = "off",
               threads: int | None = 1, query_runtime: QueryRuntime = "onnx") -> Index:
    """Open ``index_dir`` (the folder ``grounded ingest --index`` wrote) with the model its manifest names.

    The model is loaded once, here. ``embedder`` uses one already loaded instead (it must be the
    manifest's model: ``ModelMismatchError`` otherwise); ``reader`` is ``GROUNDED_READER``'s choice
    (``off``: the hand-tuned rules, ``shipped``, or a model folder); ``threads`` and
    ``query_runtime`` are those of ``grounded serve``. Raises the index folder's errors
    (``IndexFolderError`` and its kinds) with what to fix.
    """
    from ranking import reader_folder
    from service import EngineConfig, load_engine

    engine = load_engine(Path(index_dir), config=EngineConfig(reader=reader_folder(reader)), threads=threads,
                         query_runtime=query_runtime, encoder=embedder)
    return Index(engine)


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestOptions:
    """Checked ingest options: chunking, the largest file read, how sentence vectors are made, shards."""

    params: ChunkingParams
    max_bytes: int
    sentence_method: str | None
    """``pooled_from_chunk`` or ``encoded``; None: the embedder's default."""
    shards: int | None


def ingest_options(*, max_tokens: int | None = None, overlap_tokens: int | None = None,
                   max_file_bytes: int | None = None, sentence_vectors: SentenceVectors = "auto",
                   shards: int | None = None) -> IngestOptions:
    """The options ``grounded ingest`` and ``ingest`` build with; ``OptionError`` names one out of range."""
    from index import MAX_SHARDS
    from ingest import DEFAULT_MAX_BYTES, OptionError, chunking_with

    try:
        params = chunking_with(max_tokens, overlap_tokens)
    except ValueError as error:
        raise OptionError(str(error)) from error
    if shards is not None and not 1 <= shards <= MAX_SHARDS:
        raise OptionError(f"--shards must lie in 1..{MAX_SHARDS}, got {shards}")
    if max_file_bytes is not None and max_file_bytes < 1:
        raise OptionError(f"--max-file-bytes must be at least 1, got {max_file_bytes}")
    if sentence_vectors not in ("auto", "pooled_from_chunk", "encoded"):
        raise OptionError(f"--sentence-vectors must be auto, pooled_from_chunk or encoded, got {sentence_vectors!r}")
    return IngestOptions(params=params, max_bytes=max_file_bytes or DEFAULT_MAX_BYTES, shards=shards,
                         sentence_method=None if sentence_vectors == "auto" else sentence_vectors)


def ingest(paths: PathLike | Sequence[PathLike], index_dir: PathLike, *, model: str | None = None,
           embedder: Embedder | None = None, precision: Literal["auto", "float32", "bfloat16"] = "auto",
           threads: int | None = None, max_tokens: int | None = None, overlap_tokens: int | None = None,
           max_file_bytes: int | None = None, sentence_vectors: SentenceVectors = "auto",
           shards: int | None = None, progress: bool = False) -> IngestReport:
    """Build or update ``index_dir`` from the files under ``paths``: what ``grounded ingest`` runs.

    ``model`` is ``--model`` (a preset such as ``minilm`` or ``mpnet``, a sentence-transformers
    folder, or ``hashing:384``; None: the default), or pass an ``embedder`` already loaded; the
    other options are the command's flags of the same names. Unchanged files are not embedded
    again and an unchanged corpus leaves the index byte-identical. ``progress`` reports on stderr.
    Raises ``CorpusError`` (a missing path) and ``OptionError`` before any model loads.
    """
    from index import ingest as build_index
    from ingest import OptionError, check_corpus_paths, load_embedder

    corpus = [Path(paths)] if isinstance(paths, str | os.PathLike) else [Path(path) for path in paths]
    options = ingest_options(max_tokens=max_tokens, overlap_tokens=overlap_tokens, max_file_bytes=max_file_bytes,
                             sentence_vectors=sentence_vectors, shards=shards)
    if embedder is not None and model is not None:
        raise OptionError("give model or embedder, not both: the embedder already is a model")
    check_corpus_paths(corpus)
    if embedder is None:
        embedder = load_embedder(model, precision=precision, threads=threads)
    return build_index(corpus, Path(index_dir), embedder, params=options.params, max_bytes=options.max_bytes,
                       progress=progress, sentence_method=options.sentence_method, shards=options.shards)
