"""``grounded serve``: load the index and model first (fail fast), then run uvicorn.

Signals: SIGHUP reloads the newest published index version in a background thread (the same
reload as ``POST /admin/reload``); SIGTERM and SIGINT stop accepting connections, let requests in
flight finish for up to ``shutdown_grace_s``, then exit 0.
"""

from __future__ import annotations

import ipaddress
import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from pydantic import ValidationError

from service.settings import Settings, load_settings

if TYPE_CHECKING:
    from index import RayServeOptions
    from service.engine_protocol import QueryEngineProtocol
    from service.reload import EngineHolder


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (the only hosts served without an API key)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configure_threads(threads: int) -> None:
    """Pin torch and FAISS intra-op pools: workers x threads must not exceed the cores.

    torch is configured only if something imported it already: a start that reads the query
    encoder from the ONNX cache never needs it, and the torch encoder sets its own threads when
    it loads (``ingest.embedding.SentenceTransformerEmbedder``).
    """
    from index import set_faiss_threads

    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    set_faiss_threads(threads)


def serve(*, index_dir: Path, host: str | None, port: int | None, insecure: bool,
          ray: RayServeOptions | None = None) -> int:
    """Run the service until interrupted; returns the process exit code.

    With ``ray``, the index must be sharded and its shards are searched on Ray Serve deployments
    (``service.ray_front``); the app, its routes and its guarantees are the same.
    """
    started = time.perf_counter()
    overrides: dict[str, object] = {"index_dir": index_dir}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = _settings(overrides)
    if settings is None:
        return 2
    if not is_loopback(settings.host) and settings.api_key is None and not insecure:
        print(f"grounded: error: refusing to serve on {settings.host} without an API key; set GROUNDED_API_KEY "
              "(and GROUNDED_ADMIN_KEY) or pass --insecure", file=sys.stderr)
        return 2
    if ray is None:
        return _run(settings, started)
    return _run_on_ray(settings, started, ray)


def serve_mcp_stdio(*, index_dir: Path) -> int:
    """``grounded mcp``: load and warm up the index (fail fast), then answer MCP on stdin and stdout.

    Stdout carries the protocol alone: the ready line and every log go to stderr. The engine's
    settings (reader, threads, query runtime, query slots and deadlines) are ``grounded serve``'s
    ``GROUNDED_*`` variables. Returns 0 when the client closes the connection.
    """
    from service.admission import Admission
    from service.engine import load_engine
    from service.mcp_server import McpBackend, build_mcp_server
    from service.observability import Metrics
    from service.reload import serve_engine, warm_up

    started = time.perf_counter()
    settings = _settings({"index_dir": index_dir})
    if settings is None:
        return 2
    configure_threads(settings.threads)
    engine = load_engine(settings.index_dir, config=settings.engine_config(), threads=settings.threads,
                         query_runtime=settings.query_runtime)
    warm_up(engine)
    served = serve_engine(engine)
    metrics = Metrics()  # nobody scrapes a stdio server; the tools observe into it all the same
    admission = Admission(slots=settings.query_slots, queue=settings.queue_slots,
                          queue_timeout_s=settings.queue_timeout_s, query_timeout_s=settings.query_timeout_s,
                          registry=metrics.registry)
    server = build_mcp_server(McpBackend(served=lambda: served, admission=admission, metrics=metrics))
    manifest = engine.index.manifest
    print(f"grounded: MCP on stdio, ready in {time.perf_counter() - started:.2f} s: index "
          f"{manifest.index_version[:12]} ({len(manifest.documents)} documents, {manifest.model_id})",
          file=sys.stderr, flush=True)
    del engine, manifest
    server.run("stdio")
    return 0


def _settings(overrides: dict[str, object]) -> Settings | None:
    """The settings with ``overrides``, or None after printing which ``GROUNDED_*`` variable is wrong."""
    try:
        return load_settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        print(f"grounded: error: setting {field}: {first['msg']} (check GROUNDED_{field.upper()})", file=sys.stderr)
        return None


def _run_on_ray(settings: Settings, started: float, options: RayServeOptions) -> int:
    """``_run`` with the shards on Ray Serve; this front's applications are removed at exit."""
    import index
    from index import connect, shutdown_serving

    ray_started = connect(options, code_path=Path(index.__file__).resolve().parent.parent)
    try:
        return _run(settings, started, options)
    finally:
        shutdown_serving(started=ray_started)


def _run(settings: Settings, started: float, ray: RayServeOptions | None = None) -> int:
    import uvicorn

    from service.app import create_app
    from service.engine import load_engine
    from service.ray_front import load_ray_engine, ray_reloader
    from service.reload import EngineReloader, reload_query_engine

    _log_service_messages()
    configure_threads(settings.threads)
    reloader: EngineReloader = reload_query_engine
    if ray is None:
        engine = load_engine(settings.index_dir, config=settings.engine_config(),
                             threads=settings.threads, query_runtime=settings.query_runtime)
    else:
        engine, reloader = load_ray_engine(settings, ray), ray_reloader(ray)
    manifest = engine.index.manifest
    runtime = getattr(engine.embedder, "runtime", "torch")
    origin = {"cache": " (export read from the cache)", "export": " (exported now, cached for the next start)"}
    runtime += origin.get(getattr(engine.embedder, "origin", ""), "")
    where = "" if ray is None else f", shards on Ray Serve ({ray.address}, {ray.replicas} replica(s) each)"
    print(f"grounded: ready in {time.perf_counter() - started:.2f} s: index {manifest.index_version[:12]} "
          f"({len(manifest.documents)} documents, {manifest.chunk_count} chunks, {manifest.model_id}, "
          f"questions on {runtime}{where}) on http://{settings.host}:{settings.port}", file=sys.stderr, flush=True)
    app = create_app(settings, engine_loader=hand_over(engine), engine_reloader=reloader)
    # From here the app's engine holder is its only owner, so a reload can free it.
    del engine, manifest
    with _signal_handlers(app.state.engines) as stopped_by:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info",
                    timeout_graceful_shutdown=settings.shutdown_grace_s)
    if stopped_by:
        print(f"grounded: stopped on {stopped_by[0]}; requests in flight were answered first",
              file=sys.stderr, flush=True)
    return 0


def hand_over(engine: QueryEngineProtocol) -> Callable[[Settings], QueryEngineProtocol]:
    """An engine loader that returns ``engine`` once and keeps no reference to it afterwards.

    A plain ``lambda settings: engine`` would keep the first engine alive as long as the app,
    even after a reload replaced it (twice the index in memory). The app's lifespan calls it once
    uvicorn and the app are fully built, so it also freezes what exists then (their objects join
    the index's outside the collector's scans; see ``freeze_long_lived_objects``). Raises
    ``RuntimeError`` when called a second time.
    """
    from service.engine import freeze_long_lived_objects

    pending = [engine]

    def load(_settings: Settings) -> QueryEngineProtocol:
        if not pending:
            raise RuntimeError("this engine was handed over already; an app loads its engine once")
        freeze_long_lived_objects()
        return pending.pop()

    return load


def _log_service_messages() -> None:
    """Send the service's and the index's log lines (ready, reloads, failures, the ONNX cache) to
    stderr beside uvicorn's."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    for name in ("service", "index"):
        own_logger = logging.getLogger(name)
        own_logger.addHandler(handler)
        own_logger.setLevel(logging.INFO)
        own_logger.propagate = False


@contextmanager
def _signal_handlers(holder: EngineHolder) -> Iterator[list[str]]:
    """SIGHUP reloads; SIGTERM/SIGINT end with exit code 0 once uvicorn has drained.

    uvicorn handles SIGTERM and SIGINT while it serves and, after its graceful shutdown, raises
    the signal again against the handlers it found. Left at their defaults that second delivery
    would kill the process with SIGTERM (exit 143) or raise KeyboardInterrupt after a clean
    drain, so the handlers found here only record the signal. Yields the names recorded.
    """
    from service.reload import reload_in_background

    stopped_by: list[str] = []

    def record_stop(number: int, frame: FrameType | None) -> None:
        stopped_by.append(signal.Signals(number).name)

    def reload_on_hangup(number: int, frame: FrameType | None) -> None:
        reload_in_background(holder)

    handled = {signal.SIGTERM: record_stop, signal.SIGINT: record_stop, signal.SIGHUP: reload_on_hangup}
    previous = {number: signal.signal(number, handler) for number, handler in handled.items()}
    try:
        yield stopped_by
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
