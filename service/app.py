"""The FastAPI app factory: lifespan (load, warm up), routes, error handlers, middleware."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from email.message import Message
from http import HTTPStatus
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.engine_protocol import QueryEngineProtocol
from service.errors import (
    ErrorCode,
    NotReadyError,
    QueryTimeoutError,
    ServiceError,
    UnknownDocumentError,
    describe_validation_errors,
    error_body,
    excerpt,
)
from service.mapping import to_document_detail, to_document_summary, to_query, to_response
from service.middleware import BodyLimitMiddleware, ProcessTimeMiddleware
from service.observability import Metrics, MetricsMiddleware
from service.records import DocumentInfo, Query, QueryResult
from service.schemas import (
    DOC_ID_MAX_CHARS,
    DocumentDetail,
    DocumentSummary,
    ErrorResponse,
    HealthResponse,
    QueryRequest,
    QueryResponse,
    ReadyResponse,
)
from service.settings import Settings

logger = logging.getLogger(__name__)

EngineLoader = Callable[[Settings], QueryEngineProtocol]

# Neutral on purpose: it only has to exercise every stage (model, FAISS, BM25 compilation).
WARM_UP_QUERY = Query(question="What happened, where and when?", top_k=5, mode="hybrid")
RETRY_AFTER_SECONDS = "5"
JSON_EXAMPLE = 'send a JSON object such as {"question": "..."}'
# The product page is one self-contained file: the policy forbids every external asset.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "The body is not valid JSON (code invalid_json).",
        404: "filters.doc_ids names a document that is not indexed (code unknown_document).",
        413: "The body is larger than max_body_bytes (code payload_too_large).",
        415: "Content-Type is not application/json (code unsupported_media_type).",
        422: "A field breaks the schema (code invalid_request).",
        503: "Still starting (not_ready) or the query timed out (query_timeout).",
    }.items()
}


def create_app(settings: Settings, *, engine_loader: EngineLoader) -> FastAPI:
    """A new app; its lifespan calls ``engine_loader(settings)`` once, warms up, then serves.

    If the loader or the warm-up query raises, the lifespan fails with that exception (uvicorn
    then exits; ``TestClient`` raises it). ``app.state`` holds ``settings``, ``metrics``,
    ``engine``, ``documents`` (doc_id -> DocumentInfo) and ``ready``.
    """
    page = resources.files("service").joinpath("web/index.html").read_text(encoding="utf-8")
    metrics = Metrics()
    app = FastAPI(
        title="grounded",
        summary="Retrieval question answering that cites the exact source characters.",
        version="0.1.0",
        lifespan=_lifespan(settings, engine_loader, metrics),
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.engine = None
    app.state.documents = {}
    app.state.ready = False
    _add_error_handlers(app)
    _add_routes(app, page)
    # add_middleware wraps what is there, so the last added runs first (outermost).
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            expose_headers=["X-Process-Time-Ms"],
        )
    app.add_middleware(ProcessTimeMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=app.router.routes)
    return app


def warm_up(engine: QueryEngineProtocol) -> QueryResult:
    """Answer one query so the first real request pays no compilation or lazy-loading cost."""
    return engine.query(WARM_UP_QUERY)


def _lifespan(
    settings: Settings, engine_loader: EngineLoader, metrics: Metrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        # Nothing is served until start-up ends, so blocking the loop here delays no request.
        engine = engine_loader(settings)
        warm_up(engine)
        app.state.documents = {info.doc_id: info for info in engine.documents()}
        app.state.engine = engine
        app.state.ready = True
        elapsed = time.perf_counter() - started
        metrics.mark_ready(index_version=engine.index_version, startup_seconds=elapsed)
        logger.info("ready in %.2f s (index %s)", elapsed, engine.index_version)
        try:
            yield
        finally:
            app.state.ready = False
            metrics.mark_not_ready()

    return lifespan


async def _ready_engine(request: Request) -> QueryEngineProtocol:
    if not request.app.state.ready:
        raise NotReadyError("the index is still loading; retry when GET /ready answers 200")
    engine: QueryEngineProtocol = request.app.state.engine
    return engine


async def _documents(request: Request, engine: EngineDep) -> Mapping[str, DocumentInfo]:
    # Depending on the engine makes this wait for readiness like every engine-backed route.
    documents: Mapping[str, DocumentInfo] = request.app.state.documents
    return documents


async def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


EngineDep = Annotated[QueryEngineProtocol, Depends(_ready_engine)]
DocumentsDep = Annotated[Mapping[str, DocumentInfo], Depends(_documents)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
DocId = Annotated[str, Path(min_length=1, max_length=DOC_ID_MAX_CHARS)]


def _add_routes(app: FastAPI, page: str) -> None:
    """Every route, registered on the app itself.

    Not through ``include_router``: FastAPI 0.165 nests included routers as one opaque entry,
    and the metrics middleware needs the route templates in ``app.router.routes``.
    """

    @app.get("/", include_in_schema=False)
    async def product_page() -> HTMLResponse:
        """The single-page question box."""
        return HTMLResponse(page, headers=PAGE_HEADERS)

    @app.get("/health", tags=["operations"])
    async def health() -> HealthResponse:
        """Liveness: answers as soon as the process serves HTTP."""
        return HealthResponse()

    @app.get("/ready", tags=["operations"], responses={503: ERROR_RESPONSES[503]})
    async def ready(engine: EngineDep) -> ReadyResponse:
        """Readiness: 200 once the engine is loaded and answered its warm-up query, else 503."""
        return ReadyResponse(index_version=engine.index_version)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(metrics: MetricsDep) -> Response:
        """Prometheus exposition text."""
        content, media_type = metrics.render()
        return Response(content, media_type=media_type)

    @app.post("/query", tags=["query"], responses=ERROR_RESPONSES)
    def query(body: QueryRequest, engine: EngineDep, documents: DocumentsDep, metrics: MetricsDep) -> QueryResponse:
        """Retrieve passages and answer with cited sentences, or abstain with a reason."""
        # Plain def: embedding and search hold the CPU, so FastAPI runs this in its thread pool.
        if body.filters is not None:
            _check_known_documents(body.filters.doc_ids, documents)
        result = engine.query(to_query(body))
        metrics.observe_result(result)
        return to_response(result)

    @app.get("/documents", tags=["documents"], responses={503: ERROR_RESPONSES[503]})
    def list_documents(documents: DocumentsDep) -> list[DocumentSummary]:
        """Every indexed document, sorted by doc_id."""
        return [to_document_summary(documents[doc_id]) for doc_id in sorted(documents)]

    @app.get(
        "/documents/{doc_id}",
        tags=["documents"],
        responses={
            404: {"model": ErrorResponse, "description": "Unknown doc_id (code unknown_document)."},
            422: ERROR_RESPONSES[422],
            503: ERROR_RESPONSES[503],
        },
    )
    def get_document(doc_id: DocId, engine: EngineDep, documents: DocumentsDep) -> DocumentDetail:
        """A document's metadata and the full text that passage and citation offsets index."""
        info = documents.get(doc_id)
        text = engine.document_text(doc_id) if info is not None else None
        if info is None or text is None:
            raise UnknownDocumentError(f"no document has doc_id {excerpt(doc_id)}; GET /documents lists them")
        return to_document_detail(info, text)


def _check_known_documents(doc_ids: list[str], known: Mapping[str, DocumentInfo]) -> None:
    """Refuse a filter naming a document that is not indexed: it would silently match nothing."""
    unknown = [(position, doc_id) for position, doc_id in enumerate(doc_ids) if doc_id not in known]
    if unknown:
        named = ", ".join(f"[{position}] {excerpt(doc_id)}" for position, doc_id in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise UnknownDocumentError(
            f"filters.doc_ids names documents that are not indexed: {named}{more}; "
            "GET /documents lists the indexed doc_ids"
        )


def _error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """The one error shape; built from escaped JSON so no client input can break encoding."""
    return Response(
        error_body(code, message),
        status_code=status,
        media_type="application/json",
        headers=dict(headers or {}),
    )


def _status_code_name(status: int) -> str:
    """``413`` -> ``request_entity_too_large``: a code for statuses without a dedicated one."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "http_error"
    return phrase.lower().replace(" ", "_").replace("-", "_")


def _is_json_content_type(value: str | None) -> bool:
    """The same test FastAPI applies before parsing a body as JSON."""
    if not value:
        return False
    message = Message()
    message["content-type"] = value
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def _add_error_handlers(app: FastAPI) -> None:
    """Every error, expected or not, leaves as ``{"error": {"code", "message"}}``."""

    async def on_validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        errors = error.errors()
        content_type = request.headers.get("content-type")
        if any(item["loc"][:1] == ("body",) for item in errors) and not _is_json_content_type(content_type):
            return _error_response(
                415,
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                f"Content-Type must be application/json (got {excerpt(content_type)}); " + JSON_EXAMPLE,
            )
        for item in errors:
            if item["type"] == "json_invalid":
                reason = str((item.get("ctx") or {}).get("error", "syntax error"))
                position = item["loc"][1] if len(item["loc"]) > 1 else "?"
                return _error_response(
                    400,
                    ErrorCode.INVALID_JSON,
                    f"the body is not valid JSON ({excerpt(reason)[1:-1]} at character {position}); {JSON_EXAMPLE}",
                )
        return _error_response(422, ErrorCode.INVALID_REQUEST, describe_validation_errors(errors))

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        status = error.status_code
        code: str
        method = excerpt(request.method[:16])[1:-1]
        path = excerpt(request.url.path)
        if status == 404:
            code, message = ErrorCode.NOT_FOUND, f"no route {method} {path}; /docs lists the API"
        elif status == 405:
            allowed = (error.headers or {}).get("Allow", "another method")
            code = ErrorCode.METHOD_NOT_ALLOWED
            message = f"{method} is not allowed on {path}; use {allowed}"
        elif status == 400:
            # FastAPI raises a bare 400 only when the body cannot be decoded at all.
            code, message = ErrorCode.INVALID_JSON, f"the body could not be parsed; {JSON_EXAMPLE}"
        else:
            code = _status_code_name(status)
            message = excerpt(str(error.detail))[1:-1]
        return _error_response(status, code, message, error.headers)

    async def on_service_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ServiceError)
        if isinstance(error, NotReadyError):
            headers = {"Retry-After": RETRY_AFTER_SECONDS}
            return _error_response(503, ErrorCode.NOT_READY, str(error), headers)
        if isinstance(error, UnknownDocumentError):
            return _error_response(404, ErrorCode.UNKNOWN_DOCUMENT, str(error))
        if isinstance(error, QueryTimeoutError):
            headers = {"Retry-After": RETRY_AFTER_SECONDS}
            return _error_response(503, ErrorCode.QUERY_TIMEOUT, str(error), headers)
        return await on_unexpected_error(request, error)

    async def on_unexpected_error(request: Request, error: Exception) -> Response:
        reference = uuid.uuid4().hex[:12]
        logger.error(
            "unhandled error %s on %s %s",
            reference,
            request.method,
            request.url.path,
            exc_info=error,
        )
        return _error_response(
            500,
            ErrorCode.INTERNAL_ERROR,
            f"internal error (reference {reference}); the server log has the details",
        )

    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(Exception, on_unexpected_error)
