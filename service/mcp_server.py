"""The MCP server (the official ``mcp`` SDK's ``MCPServer``): grounded's operations as assistant tools.

Tools ``ask``, ``get_document`` and ``check``, the document list as the resource
``grounded://documents`` and each document's text as ``grounded://documents/{doc_id}``. Every tool
runs the operation the HTTP route runs (``service.operations``) and returns the HTTP body's own
model, so ``structuredContent`` has the shape ``POST /query`` and ``POST /check`` answer.

One server, two transports: stdio (``grounded mcp``: ``service.server.serve_mcp_stdio``) and
streamable HTTP mounted on ``grounded serve`` at ``/mcp`` (``service.app``), behind the same API
keys and with the CPU work under the same admission control as ``/query``. A refused call (bad
argument, unknown document, overloaded, still loading) is a tool error whose text says what to fix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer, ResourceSecurity
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.types import ToolAnnotations
from pydantic import Field
from starlette.types import Receive, Scope, Send

from index import ShardUnavailableError
from service.admission import Admission
from service.errors import ServiceError
from service.mapping import to_check_response, to_response
from service.observability import Metrics
from service.operations import (
    check_citations,
    check_query,
    check_request,
    list_documents,
    query_request,
    read_document,
    read_excerpt,
    run_check,
    run_query,
)
from service.reload import Served
from service.schemas import (
    ANSWER_MAX_CHARS,
    CITATIONS_MAX,
    FILTER_MAX_DOC_IDS,
    QUESTION_MAX_CHARS,
    TOP_K_MAX,
    TOP_K_MIN,
    CheckCitation,
    CheckResponse,
    DocumentExcerpt,
    QueryResponse,
)

MCP_PATH = "/mcp"
"""Where ``grounded serve`` answers MCP over streamable HTTP."""
DOCUMENTS_URI = "grounded://documents"
DOCUMENT_URI_TEMPLATE = "grounded://documents/{+doc_id}"
"""``+``: a doc_id may hold slashes (``guide/install``), as in ``GET /documents/{doc_id}``."""
EXCERPT_MAX_CHARS = 20_000
"""The most text one ``get_document`` call returns (about 5,000 tokens): page on from ``end_char``."""
SERVER_VERSION = "0.1.0"

INSTRUCTIONS = (
    "grounded answers questions from one indexed document collection and cites the exact characters "
    "that say it. Call ask before answering anything the documents may cover, quote its answer with "
    "the citations, and when it abstains say the documents do not answer rather than answering from "
    "memory. Call get_document to read around a citation, and check to verify an answer you wrote "
    "yourself before you give it. Offsets count Unicode code points: document.text[start_char:end_char]."
)

ASK_DESCRIPTION = (
    "Answer a question from the indexed documents, with exact citations. Use it first for any question "
    "the documents may answer (facts, names, figures, dates, how-tos), instead of answering from memory. "
    "Returns `answer` (verbatim sentences of the documents, each citation giving doc_id and the character "
    "range start_char-end_char of its text) or, when the documents do not support an answer, `answer: "
    "null` and `abstention.reason`: then tell the user the documents do not say, do not guess. "
    "`passages` are the ranked passages with their own citations, for context. Quote the answer's "
    "sentences and name their doc_id; call get_document to read more around a citation."
)
GET_DOCUMENT_DESCRIPTION = (
    "Read a document's text, or the part of it around a citation. Use it after ask or check when the "
    "cited sentence is not enough context: pass the citation's doc_id and a range a little wider than "
    "its start_char-end_char (for example 1,000 characters either side). Without a range it returns the "
    f"start of the document. One call returns at most {EXCERPT_MAX_CHARS:,} characters; when `truncated` "
    "is true, call again from `end_char` for the rest. `document_chars` is the whole text's length. "
    "For a PDF, `page` reads one page (citations and passages of PDFs carry their `pages`). "
    "The document list (doc_id, title, source) is the resource grounded://documents."
)
CHECK_DESCRIPTION = (
    "Verify an answer you wrote before giving it to the user: for every sentence, whether the cited "
    "ranges support it (supported, partially_supported, unsupported, or no_citation when nothing was "
    "cited and no question given), with the best evidence span and the reasons (a number, a name or a "
    "negation the evidence does not have). Cite the ranges ask returned (doc_id, start_char, end_char); "
    "without citations, pass the question and the evidence is retrieved. Rewrite or drop every sentence "
    "that is not supported; `supported_share` is the supported fraction."
)

READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                            open_world_hint=False)

Question = Annotated[str, Field(description=f"The question, in plain words (at most {QUESTION_MAX_CHARS} "
                                            "characters).")]
TopK = Annotated[int, Field(ge=TOP_K_MIN, le=TOP_K_MAX, description="How many passages to return.")]
DocIds = Annotated[list[str] | None, Field(max_length=FILTER_MAX_DOC_IDS, description=(
    "Search only these documents (doc_ids from grounded://documents or earlier citations); omit to "
    "search all."))]
SearchMode = Annotated[Literal["hybrid", "dense", "sparse"], Field(description=(
    "hybrid (the default: meaning and words), dense (meaning only) or sparse (exact words, BM25)."))]
DocId = Annotated[str, Field(description="The document's doc_id, as a citation or grounded://documents gives it.")]
StartChar = Annotated[int, Field(ge=0, description="First character to return (default: 0).")]
EndChar = Annotated[int | None, Field(ge=1, description="Character after the last one to return (default: "
                                                        "the end, or the excerpt limit).")]
AnswerText = Annotated[str, Field(description=f"The answer to check (at most {ANSWER_MAX_CHARS} characters).")]
Citations = Annotated[list[CheckCitation] | None, Field(max_length=CITATIONS_MAX, description=(
    "The ranges the answer cites: doc_id, start_char, end_char as ask returned them."))]
CheckQuestion = Annotated[str | None, Field(description=(
    "The question the answer answers; without citations it retrieves the evidence."))]
PageNumber = Annotated[int | None, Field(ge=1, description=(
    "A PDF page number (1-based, as citations' `pages` give it): read that page instead of a range."))]


@dataclass(frozen=True, slots=True, kw_only=True)
class McpBackend:
    """What the tools use: the served index snapshot, the admission control to compute under, the metrics."""

    served: Callable[[], Served]
    """The snapshot one call uses throughout; raises ``NotReadyError`` until start-up has ended."""
    admission: Admission
    metrics: Metrics


def build_mcp_server(backend: McpBackend) -> MCPServer:
    """A new MCP server whose tools and resources answer from ``backend``."""
    # log_level: the constructor calls logging.basicConfig; at WARNING it only does what Python's
    # last-resort handler does anyway (warnings to stderr), never INFO lines from every library.
    server: MCPServer = MCPServer(name="grounded", title="grounded: cited answers from your documents",
                                  instructions=INSTRUCTIONS, version=SERVER_VERSION, log_level="WARNING")

    async def ask(question: Question, top_k: TopK = 5, doc_ids: DocIds = None,
                  mode: SearchMode = "hybrid") -> QueryResponse:
        try:
            request = query_request(question, top_k=top_k, mode=mode, doc_ids=doc_ids)
            served = backend.served()
            check_query(request, served)
            result = await backend.admission.run(partial(run_query, request, served.engine))
        except (ServiceError, ShardUnavailableError) as error:
            raise ToolError(str(error)) from error
        backend.metrics.observe_result(result)
        return to_response(result)

    def get_document(doc_id: DocId, start_char: StartChar = 0, end_char: EndChar = None,
                     page: PageNumber = None) -> DocumentExcerpt:
        try:
            return read_excerpt(doc_id, backend.served(), start_char=start_char, end_char=end_char,
                                page=page, max_chars=EXCERPT_MAX_CHARS)
        except ServiceError as error:
            raise ToolError(str(error)) from error

    async def check(answer: AnswerText, citations: Citations = None, question: CheckQuestion = None) -> CheckResponse:
        try:
            cited = [citation.model_dump() for citation in citations or ()]
            request = check_request(answer, cited, question=question)
            served = backend.served()
            check_citations(request.answer.citations, served)
            result = await backend.admission.run(partial(run_check, request, served.engine))
        except (ServiceError, ShardUnavailableError) as error:
            raise ToolError(str(error)) from error
        backend.metrics.observe_check(result)
        return to_check_response(result)

    def documents() -> str:
        try:
            listed = list_documents(backend.served())
        except ServiceError as error:
            raise ResourceError(str(error)) from error
        return json.dumps([summary.model_dump(mode="json") for summary in listed], ensure_ascii=False)

    def document_text(doc_id: str) -> str:
        try:
            return read_document(doc_id, backend.served()).text
        except ServiceError as error:
            raise ResourceError(str(error)) from error

    server.add_tool(ask, title="Ask the documents", description=ASK_DESCRIPTION, annotations=READ_ONLY,
                    structured_output=True)
    server.add_tool(get_document, title="Read a document", description=GET_DOCUMENT_DESCRIPTION,
                    annotations=READ_ONLY, structured_output=True)
    server.add_tool(check, title="Check an answer against its citations", description=CHECK_DESCRIPTION,
                    annotations=READ_ONLY, structured_output=True)
    server.resource(DOCUMENTS_URI, name="documents", title="Indexed documents", mime_type="application/json",
                    description="Every indexed document: doc_id, title, source, chunk_count (sorted by doc_id).",
                    )(documents)
    # doc_ids are keys of the index, never file paths: the path-safety checks would refuse real ones
    # (a doc_id may hold slashes or dots) and protect nothing.
    server.resource(DOCUMENT_URI_TEMPLATE, name="document", title="A document's text", mime_type="text/plain",
                    description="The full text of one document; citation offsets index into it.",
                    security=ResourceSecurity(exempt_params={"doc_id"}))(document_text)
    return server


def start_http_transport(server: MCPServer, *, host: str) -> StreamableHTTPSessionManager:
    """A new streamable HTTP session manager for ``server``; run it (``.run()``) while the app serves.

    Stateless, with JSON responses: every call is one POST answered by one JSON body, so no session
    or open stream outlives a request (a graceful shutdown never waits on an idle client) and any
    worker can answer any call. The SDK's DNS-rebinding check (allowed Host and Origin headers) is
    on for a loopback ``host``, as in its own servers. A manager runs once, so each lifespan of the
    app (tests start one app several times) starts a new one.
    """
    server.streamable_http_app(stateless_http=True, json_response=True, host=host)
    return server.session_manager


class McpEndpoint:
    """The ASGI endpoint at ``MCP_PATH``: each request goes to ``server``'s current session manager."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.server.session_manager.handle_request(scope, receive, send)
