"""The FastAPI app factory: state, lifespan (load, warm up), routes, error handlers, middleware.

Routes are module-level handlers in ``service/routes/`` (one module per resource), their
dependencies ``Annotated`` aliases in ``service/deps.py``, error handling in
``service/error_handlers.py`` and the OpenAPI additions in ``service/openapi.py``.

The request path, outermost first: early refusal (``service.early_refusal``: ``POST /query`` and
``POST /check`` answered 503 at once while admission is full) -> metrics -> process time -> CORS
(only with an allowlist) -> API keys (``service.auth``) -> body limit -> routing. ``POST /query``
and ``POST /check`` then take the served engine once (``service.reload``) and compute on a query
thread under admission control (``service.admission``): at most ``query_slots`` at once, a short
queue, 503 ``overloaded`` beyond it and 504 ``query_timeout`` at the deadline. MCP over streamable
HTTP answers at ``/mcp`` (``service.mcp_server``) inside the same layers, its tools computing under
the same admission control.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from service.admission import Admission
from service.auth import Access, AuthMiddleware
from service.cors import AllowlistCORSMiddleware
from service.deps import current_served
from service.early_refusal import EarlyRefusalMiddleware
from service.engine_protocol import QueryEngineProtocol
from service.error_handlers import add_error_handlers
from service.generation import Generation
from service.llm import chat_model
from service.mcp_server import MCP_PATH, McpBackend, McpEndpoint, build_mcp_server, start_http_transport
from service.middleware import BodyLimitMiddleware, ProcessTimeMiddleware
from service.observability import Metrics, MetricsMiddleware, route_template
from service.openapi import ADMIN_ROUTE_PREFIX, PUBLIC_ROUTES, document_security
from service.reload import EngineHolder, EngineReloader, reload_query_engine
from service.routes import CHECK_PATH, QUERY_PATH, register_all
from service.settings import Settings

logger = logging.getLogger(__name__)

EngineLoader = Callable[[Settings], QueryEngineProtocol]


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
    ``admission``, ``generation`` (the model of generated answers, if configured) and ``ready``.
    """
    metrics = Metrics()
    holder = EngineHolder(reloader=engine_reloader or reload_query_engine, metrics=metrics)
    admission = Admission(
        slots=settings.query_slots,
        queue=settings.queue_slots,
        queue_timeout_s=settings.queue_timeout_s,
        query_timeout_s=settings.query_timeout_s,
        registry=metrics.registry,
    )
    app = FastAPI(
        title="grounded",
        summary="Retrieval question answering that cites the exact source characters.",
        version="0.1.0",
        lifespan=_lifespan(settings, engine_loader, metrics, holder),
    )
    mcp_server = build_mcp_server(McpBackend(served=partial(current_served, app.state), admission=admission,
                                             metrics=metrics))
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.engines = holder
    app.state.admission = admission
    app.state.mcp = mcp_server
    app.state.generation = Generation(model=chat_model(settings), unsupported=settings.llm_unsupported,
                                      sources=settings.llm_sources)
    app.state.ready = False
    add_error_handlers(app)
    register_all(app.router)
    # On the app's own router like every route, so the middlewares (keys, metrics) match its template.
    app.router.routes.append(Route(MCP_PATH, McpEndpoint(mcp_server), include_in_schema=False))
    document_security(app, settings)
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
        routes=[_route(app.router.routes, path, "POST") for path in (QUERY_PATH, CHECK_PATH)],
        decorate=partial(AllowlistCORSMiddleware, origins=settings.cors_origins) if settings.cors_origins else None,
    )
    return app


def _route(routes: list[BaseRoute], path: str, method: str) -> APIRoute:
    """The registered route for ``method path``."""
    for route in routes:
        if isinstance(route, APIRoute) and route.path == path and method in (route.methods or ()):
            return route
    raise LookupError(f"no route {method} {path}")  # a bug: service.routes registers it


def _route_access(scope: Scope, *, routes: list[BaseRoute], metrics_public: bool) -> Access:
    """The access a request needs, by the route template it matches (never the raw path)."""
    template = route_template(scope, routes)
    if template in PUBLIC_ROUTES or (metrics_public and template == "/metrics"):
        return Access.PUBLIC
    if template.startswith(ADMIN_ROUTE_PREFIX):
        return Access.ADMIN
    return Access.QUERY


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
            # The MCP transport's task group lives as long as the app serves.
            async with start_http_transport(app.state.mcp, host=settings.host).run():
                yield
        finally:
            app.state.ready = False
            metrics.mark_not_ready()
            if app.state.generation.model is not None:
                await app.state.generation.model.close()

    return lifespan


def _install(engine: QueryEngineProtocol, holder: EngineHolder) -> str:
    """Serve ``engine`` from ``holder`` (which warms it up and becomes its only owner); its version."""
    holder.install(engine)
    return engine.index_version


