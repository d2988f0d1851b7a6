"""The FastAPI app factory: lifespan (load, warm up), routes, error handlers, middleware.

The request path, outermost first: early refusal (``service.early_refusal``: ``POST /query``
answered 503 at once while admission is full) -> metrics -> process time -> CORS (only with an
allowlist) -> API keys (``service.auth``) -> body limit -> routing. ``POST /query`` then takes the
served engine once (``service.reload``) and computes on a query thread under admission control
(``service.admission``): at most ``query_slots`` at once, a short queue, 503 ``overloaded`` beyond
it and 504 ``query_timeout`` at the deadline.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from email.message import Message
from functools import partial
from http import HTTPStatus
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import Scope

from service.admission import RETRY_AFTER_SECONDS as OVERLOADED_RETRY_AFTER_SECONDS
from service.admission import Admission
from service.auth import Access, AuthMiddleware
from service.cors import AllowlistCORSMiddleware
from service.early_refusal import EarlyRefusalMiddleware
from service.engine_protocol import QueryEngineProtocol
from service.errors import (
    ErrorCode,
    NotReadyError,
    OverloadedError,
    QueryTimeoutError,
    ReloadFailedError,
    ReloadUnsupportedError,
    ServiceError,
    UnknownDocumentError,
    describe_validation_errors,
    error_body,
    excerpt,
)
from service.mapping import to_document_detail, to_document_summary, to_query, to_response
from service.middleware import BodyLimitMiddleware, ProcessTimeMiddleware
from service.observability import Metrics, MetricsMiddleware, route_template
from service.records import DocumentInfo
from service.reload import EngineHolder, EngineReloader, ReloadResponse, Served, reload_query_engine
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
# Routes anyone may call; every other path (including ones no route matches) needs the query key
# when one is set, so a route added later is guarded until someone decides otherwise.
PUBLIC_ROUTES = frozenset({"/", "/health", "/ready", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
ADMIN_ROUTE_PREFIX = "/admin/"
QUERY_PATH = "/query"


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


UNAUTHORIZED = _error("GROUNDED_API_KEY is set and the key is missing or wrong (code unauthorized).")
NOT_READY = _error("Still starting (code not_ready), with Retry-After.")
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The body is not valid JSON (code invalid_json)."),
    401: UNAUTHORIZED,
    404: _error("filters.doc_ids names a document that is not indexed (code unknown_document)."),
    413: _error("The body is larger than max_body_bytes (code payload_too_large)."),
    415: _error("Content-Type is not application/json (code unsupported_media_type)."),
    422: _error("A field breaks the schema (code invalid_request)."),
    503: _error(
        "Still starting (not_ready), or every query slot is busy and the queue full or waited out "
        "(overloaded); both with Retry-After."
    ),
    504: _error("The query ran past query_timeout_s (code query_timeout)."),
}
ADMIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("GROUNDED_ADMIN_KEY (or, without it, GROUNDED_API_KEY) is set and the key is missing or wrong."),
    403: _error(
        "The query key was sent where the admin key is needed, or no admin key is set and the "
        "client is not on loopback (code forbidden)."
    ),
    409: _error("The newest published version did not load; the old one is still served (code reload_failed)."),
    501: _error("This server's engine cannot reload (code reload_unsupported)."),
    503: NOT_READY,
}


def create_app(
    settings: Settings,
    *,
    engine_loader: EngineLoader,
    engine_reloader: EngineReloader | None = None,
) -> FastAPI:
    """A new app; its lifespan calls ``engine_loader(settings)`` once, warms up, then serves.

    If the loader or the warm-up query raises, the lifespan fails with that exception (uvicorn
    then exits; ``TestClient`` raises it). ``engine_reloader(engine)`` returns the engine to serve
    after ``POST /admin/reload`` (the same object when nothing changed); by default
    ``service.engine.reload_engine`` for a real ``QueryEngine``, and 501 for anything else.
    ``app.state`` holds ``settings``, ``metrics``, ``engines`` (the ``EngineHolder``),
    ``admission`` and ``ready``.
    """
    page = resources.files("service").joinpath("web/index.html").read_text(encoding="utf-8")
    metrics = Metrics()
    holder = EngineHolder(reloader=engine_reloader or reload_query_engine, metrics=metrics)
    app = FastAPI(
        title="grounded",
        summary="Retrieval question answering that cites the exact source characters.",
        version="0.1.0",
        lifespan=_lifespan(settings, engine_loader, metrics, holder),
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.engines = holder
    app.state.admission = Admission(
        slots=settings.query_slots,
        queue=settings.queue_slots,
        queue_timeout_s=settings.queue_timeout_s,
        query_timeout_s=settings.query_timeout_s,
        registry=metrics.registry,
    )
    app.state.ready = False
    _add_error_handlers(app)
    _add_routes(app, page)
    _document_security(app, settings)
    # add_middleware wraps what is there, so the last added runs first (outermost).
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    # Outside the body limit: a client without the key is refused before a byte of its body is read.
    app.add_middleware(
        AuthMiddleware,
        api_key=settings.api_key,
        admin_key=settings.admin_key,
        access_for=partial(_route_access, routes=app.router.routes, metrics_public=settings.metrics_public),
    )
    if settings.cors_origins:
        # Outside the keys: browsers send preflights without credentials, and a 401 must carry
        # the CORS headers for the page to read it.
        app.add_middleware(AllowlistCORSMiddleware, origins=settings.cors_origins)
    app.add_middleware(ProcessTimeMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=metrics, routes=app.router.routes)
    # Outermost: while admission is full, a refusal must cost as little as possible, or refusing
    # becomes the bottleneck (docs/reliability.md, finding 6). It counts itself in the metrics and
    # passes through the CORS layer of its own, so its answer equals the one admission gives.
    app.add_middleware(
        EarlyRefusalMiddleware,
        admission=app.state.admission,
        metrics=metrics,
        route=_route(app.router.routes, QUERY_PATH, "POST"),
        decorate=partial(AllowlistCORSMiddleware, origins=settings.cors_origins) if settings.cors_origins else None,
    )
    return app


def _route(routes: list[BaseRoute], path: str, method: str) -> APIRoute:
    """The registered route for ``method path``."""
    for route in routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return route
    raise LookupError(f"no route {method} {path}")  # a bug: _add_routes registers it


def _route_access(scope: Scope, *, routes: list[BaseRoute], metrics_public: bool) -> Access:
    """The access a request needs, by the route template it matches (never the raw path)."""
    template = route_template(scope, routes)
    if template in PUBLIC_ROUTES or (metrics_public and template == "/metrics"):
        return Access.PUBLIC
    if template.startswith(ADMIN_ROUTE_PREFIX):
        return Access.ADMIN
    return Access.QUERY


def _document_security(app: FastAPI, settings: Settings) -> None:
    """Describe the configured keys in the OpenAPI schema (nothing when no key is set)."""
    if settings.api_key is None and settings.admin_key is None:
        return
    generate = app.openapi  # FastAPI's own generator; it caches its result in app.openapi_schema

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()  # now cached: the changes below are made once
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
        either_key: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKeyHeader": []}]
        for path, operations in schema.get("paths", {}).items():
            guarded = path.startswith(ADMIN_ROUTE_PREFIX) or settings.api_key is not None
            if guarded and path not in PUBLIC_ROUTES:
                for operation in operations.values():
                    operation["security"] = either_key
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented customisation hook


def _lifespan(
    settings: Settings, engine_loader: EngineLoader, metrics: Metrics, holder: EngineHolder
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = time.perf_counter()
        # Nothing is served until start-up ends, so blocking the loop here delays no request.
        # No local of this generator may hold the engine: it lives as long as the app does, and
        # the first engine must be freed when a reload replaces it.
        index_version = _install(engine_loader(settings), holder)
        app.state.ready = True
        elapsed = time.perf_counter() - started
        metrics.mark_ready(index_version=index_version, startup_seconds=elapsed)
        logger.info("ready in %.2f s (index %s)", elapsed, index_version)
        try:
            yield
        finally:
            app.state.ready = False
            metrics.mark_not_ready()

    return lifespan


def _install(engine: QueryEngineProtocol, holder: EngineHolder) -> str:
    """Serve ``engine`` from ``holder`` (which warms it up and becomes its only owner); its version."""
    holder.install(engine)
    return engine.index_version


async def _served(request: Request) -> Served:
    """The engine snapshot this request uses throughout (a reload never changes it mid-request)."""
    holder: EngineHolder = request.app.state.engines
    served = holder.current()
    if served is None or not request.app.state.ready:
        raise NotReadyError("the index is still loading; retry when GET /ready answers 200")
    return served


async def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def _admission(request: Request) -> Admission:
    admission: Admission = request.app.state.admission
    return admission


async def _holder(request: Request) -> EngineHolder:
    holder: EngineHolder = request.app.state.engines
    return holder


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


ServedDep = Annotated[Served, Depends(_served)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
AdmissionDep = Annotated[Admission, Depends(_admission)]
HolderDep = Annotated[EngineHolder, Depends(_holder)]
SettingsDep = Annotated[Settings, Depends(_settings)]
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

    @app.get("/ready", tags=["operations"], responses={503: NOT_READY})
    async def ready(served: ServedDep) -> ReadyResponse:
        """Readiness: 200 once the engine is loaded and answered its warm-up query, else 503."""
        return ReadyResponse(index_version=served.engine.index_version)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(metrics: MetricsDep) -> Response:
        """Prometheus exposition text."""
        content, media_type = metrics.render()
        return Response(content, media_type=media_type)

    @app.post(QUERY_PATH, tags=["query"], responses=ERROR_RESPONSES)
    async def query(
        body: QueryRequest,
        served: ServedDep,
        admission: AdmissionDep,
        metrics: MetricsDep,
        settings: SettingsDep,
    ) -> QueryResponse:
        """Retrieve passages and answer with cited sentences, or abstain with a reason."""
        # async on purpose: the loop only waits here; embedding and search run on admission's
        # query threads (never on the loop, where FAISS would stall every other request).
        if body.filters is not None:
            _check_known_documents(body.filters.doc_ids, served.documents)
        work = partial(served.engine.query, to_query(body))
        result = await admission.run(work)
        metrics.observe_result(result)
        return to_response(result)

    @app.get("/documents", tags=["documents"], responses={401: UNAUTHORIZED, 503: NOT_READY})
    def list_documents(served: ServedDep) -> list[DocumentSummary]:
        """Every indexed document, sorted by doc_id."""
        documents = served.documents
        return [to_document_summary(documents[doc_id]) for doc_id in sorted(documents)]

    @app.get(
        "/documents/{doc_id}",
        tags=["documents"],
        responses={
            401: UNAUTHORIZED,
            404: _error("Unknown doc_id (code unknown_document)."),
            422: ERROR_RESPONSES[422],
            503: NOT_READY,
        },
    )
    def get_document(doc_id: DocId, served: ServedDep) -> DocumentDetail:
        """A document's metadata and the full text that passage and citation offsets index."""
        info = served.documents.get(doc_id)
        text = served.engine.document_text(doc_id) if info is not None else None
        if info is None or text is None:
            raise UnknownDocumentError(f"no document has doc_id {excerpt(doc_id)}; GET /documents lists them")
        return to_document_detail(info, text)

    @app.post("/admin/reload", tags=["admin"], responses=ADMIN_RESPONSES)
    def reload(holder: HolderDep) -> ReloadResponse:
        """Serve the newest published index version; queries in flight finish on the old one."""
        # Plain def: loading and warming the new version blocks, so it runs in the thread pool.
        outcome = holder.reload()
        return ReloadResponse(index_version=outcome.index_version, changed=outcome.changed)


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
        if isinstance(error, OverloadedError):
            headers = {"Retry-After": str(OVERLOADED_RETRY_AFTER_SECONDS)}
            return _error_response(503, ErrorCode.OVERLOADED, str(error), headers)
        if isinstance(error, QueryTimeoutError):
            return _error_response(504, ErrorCode.QUERY_TIMEOUT, str(error))
        if isinstance(error, ReloadFailedError):
            return _error_response(409, ErrorCode.RELOAD_FAILED, str(error))
        if isinstance(error, ReloadUnsupportedError):
            return _error_response(501, ErrorCode.RELOAD_UNSUPPORTED, str(error))
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
