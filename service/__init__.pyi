"""The face of ``service``: the names other packages import (loaded lazily; see ``__init__.py``)."""

from .app import create_app
from .engine import EngineConfig, QueryEngine, load_engine
from .engine_protocol import QueryEngineProtocol
from .errors import InvalidCitationError, InvalidRequestError, ServiceError, UnknownDocumentError
from .mapping import to_check_response, to_response
from .operations import (
    check_citations,
    check_query,
    check_request,
    list_documents,
    query_request,
    read_document,
    run_check,
    run_query,
)
from .records import Query, QueryResult
from .reload import Served, serve_engine
from .schemas import (
    Abstention,
    AnswerBody,
    AnswerCitation,
    CheckCitation,
    CheckResponse,
    DocumentDetail,
    DocumentSummary,
    EvidenceBody,
    Mode,
    PassageBody,
    PassageCitation,
    QueryResponse,
    ReasonBody,
    SentenceVerdict,
)
from .server import serve, serve_mcp_stdio

__all__ = [
    "Abstention",
    "AnswerBody",
    "AnswerCitation",
    "CheckCitation",
    "CheckResponse",
    "DocumentDetail",
    "DocumentSummary",
    "EngineConfig",
    "EvidenceBody",
    "InvalidCitationError",
    "InvalidRequestError",
    "Mode",
    "PassageBody",
    "PassageCitation",
    "Query",
    "QueryEngine",
    "QueryEngineProtocol",
    "QueryResponse",
    "QueryResult",
    "ReasonBody",
    "SentenceVerdict",
    "Served",
    "ServiceError",
    "UnknownDocumentError",
    "check_citations",
    "check_query",
    "check_request",
    "create_app",
    "list_documents",
    "load_engine",
    "query_request",
    "read_document",
    "run_check",
    "run_query",
    "serve",
    "serve_engine",
    "serve_mcp_stdio",
    "to_check_response",
    "to_response",
]
