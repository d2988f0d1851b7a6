"""Hot reload: the served engine sits in a holder that swaps it atomically for a newer one.

Each request reads the holder once, at its start, and keeps that ``Served`` snapshot (engine and
document table together) to the end, so a query in flight finishes on the version it began with
and every response names either the old or the new version. A reload loads and warms the new
engine on the side, then replaces one reference; a failed reload changes nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from prometheus_client import Counter
from pydantic import BaseModel

from index import IndexFolderError
from service.engine_protocol import QueryEngineProtocol
from service.errors import NotReadyError, ReloadFailedError, ReloadUnsupportedError, ServiceError
from service.observability import Metrics
from service.records import DocumentInfo, Query, QueryResult

logger = logging.getLogger(__name__)

EngineReloader = Callable[[QueryEngineProtocol], QueryEngineProtocol]

# Neutral on purpose: it only has to exercise every stage (model, FAISS, BM25 compilation).
WARM_UP_QUERY = Query(question="What happened, where and when?", top_k=5, mode="hybrid")


def warm_up(engine: QueryEngineProtocol) -> QueryResult:
    """Answer one query so the first real request pays no compilation or lazy-loading cost.

    The only warm-up: every engine the holder serves (at start-up or after a reload) gets it once.
    """
    return engine.query(WARM_UP_QUERY)


@dataclass(frozen=True, slots=True, kw_only=True)
class Served:
    """One engine and its documents by doc_id: what a request uses from start to end."""

    engine: QueryEngineProtocol
    documents: Mapping[str, DocumentInfo]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadOutcome:
    """The version served after a reload and whether the engine was replaced."""

    index_version: str
    changed: bool


class ReloadResponse(BaseModel):
    """Body of ``POST /admin/reload``."""

    index_version: str
    changed: bool


def reload_query_engine(engine: QueryEngineProtocol) -> QueryEngineProtocol:
    """The default reloader: ``service.engine.reload_engine`` for a real ``QueryEngine``.

    Raises ``ReloadUnsupportedError`` for any other engine (a test fake, say).
    """
    # Imported here: the app serves fakes without loading FAISS and torch.
    from service.engine import QueryEngine, reload_engine

    if not isinstance(engine, QueryEngine):
        raise ReloadUnsupportedError(
            f"this server's engine ({type(engine).__name__}) cannot reload; restart it to serve a new index"
        )
    return reload_engine(engine)


def serve_engine(engine: QueryEngineProtocol) -> Served:
    """The snapshot for ``engine``, its document table built once."""
    return Served(engine=engine, documents={info.doc_id: info for info in engine.documents()})


class EngineHolder:
    """The current ``Served`` snapshot; ``reload`` replaces it, one reload at a time."""

    def __init__(self, *, reloader: EngineReloader, metrics: Metrics) -> None:
        self._reloader = reloader
        self._metrics = metrics
        self._served: Served | None = None
        # Serialises reloads (an admin request and a SIGHUP at once load the index only once
        # each, never interleaved); readers take no lock: replacing one reference is atomic.
        self._reload_lock = threading.Lock()
        self._reloads = Counter(
            "grounded_index_reloads",
            "Reload attempts by outcome: changed, unchanged or failed.",
            ("outcome",),
            registry=metrics.registry,
        )

    def current(self) -> Served | None:
        """The snapshot to use for one whole request, or None before start-up ends."""
        return self._served

    def install(self, engine: QueryEngineProtocol) -> Served:
        """Warm ``engine`` up and serve it (at start-up); the warm-up's errors propagate."""
        warm_up(engine)
        served = serve_engine(engine)
        self._served = served
        self._publish_version(engine.index_version)
        return served

    def reload(self) -> ReloadOutcome:
        """Load the newest published version and swap it in; the old one serves until then.

        Raises ``NotReadyError`` before start-up ends, ``ReloadUnsupportedError`` when the engine
        cannot reload, and ``ReloadFailedError`` when the new version does not load (corrupted,
        built with another model): the old engine keeps serving in every case.
        """
        with self._reload_lock:
            old = self._served
            if old is None:
                raise NotReadyError("the index is still loading; retry when GET /ready answers 200")
            started = time.perf_counter()
            try:
                fresh = self._reloader(old.engine)
                if fresh is not old.engine:
                    # Before the swap, so the first query on the new version is not slowed.
                    warm_up(fresh)
            except IndexFolderError as error:
                self._reloads.labels(outcome="failed").inc()
                logger.error("reload failed, still serving index %s: %s", old.engine.index_version, error)
                raise ReloadFailedError(
                    f"the newest published index did not load, so {old.engine.index_version} is still served: {error}"
                ) from error
            except ServiceError:
                self._reloads.labels(outcome="failed").inc()
                raise
            if fresh is old.engine:
                self._reloads.labels(outcome="unchanged").inc()
                return ReloadOutcome(index_version=old.engine.index_version, changed=False)
            self._served = serve_engine(fresh)
            self._publish_version(fresh.index_version)
            self._reloads.labels(outcome="changed").inc()
            logger.info(
                "reloaded index %s -> %s in %.2f s",
                old.engine.index_version,
                fresh.index_version,
                time.perf_counter() - started,
            )
            return ReloadOutcome(index_version=fresh.index_version, changed=True)

    def _publish_version(self, index_version: str) -> None:
        self._metrics.index_info.clear()
        self._metrics.index_info.labels(index_version=index_version).set(1)


def reload_in_background(holder: EngineHolder) -> threading.Thread:
    """Start a reload on a daemon thread (what SIGHUP does); the outcome goes to the log."""

    def reload_and_log() -> None:
        try:
            outcome = holder.reload()
        except ServiceError as error:
            # A signal has no caller to answer: the log line is the report (the holder logged
            # the details of a failed load already).
            logger.error("reload on SIGHUP refused: %s", error)
            return
        if not outcome.changed:
            logger.info("reload on SIGHUP: index %s is already the newest", outcome.index_version)

    thread = threading.Thread(target=reload_and_log, name="grounded-reload", daemon=True)
    thread.start()
    return thread
