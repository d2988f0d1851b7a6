"""``grounded serve``: load the index and model first (fail fast), then run uvicorn."""

from __future__ import annotations

import ipaddress
import sys
import time
from pathlib import Path

from pydantic import ValidationError

from service.settings import Settings, load_settings


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (the only hosts served without an API key)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def configure_threads(threads: int) -> None:
    """Pin torch and FAISS intra-op pools: workers x threads must not exceed the cores."""
    import torch

    from index.dense import set_faiss_threads

    torch.set_num_threads(threads)
    set_faiss_threads(threads)


def serve(*, index_dir: Path, host: str | None, port: int | None, insecure: bool) -> int:
    """Run the service until interrupted; returns the process exit code."""
    started = time.perf_counter()
    overrides: dict[str, object] = {"index_dir": index_dir}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    try:
        settings = load_settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        print(f"grounded: error: setting {field}: {first['msg']} (check GROUNDED_{field.upper()})", file=sys.stderr)
        return 2
    if not is_loopback(settings.host) and settings.api_key is None and not insecure:
        print(f"grounded: error: refusing to serve on {settings.host} without an API key; set GROUNDED_API_KEY "
              "(and GROUNDED_ADMIN_KEY) or pass --insecure", file=sys.stderr)
        return 2
    return _run(settings, started)


def _run(settings: Settings, started: float) -> int:
    import uvicorn

    from service.app import create_app
    from service.engine import EngineConfig, load_engine

    configure_threads(settings.threads)
    engine = load_engine(settings.index_dir, config=EngineConfig(cache_size=settings.cache_size),
                         threads=settings.threads)
    manifest = engine.index.manifest
    print(f"grounded: ready in {time.perf_counter() - started:.2f} s: index {manifest.index_version[:12]} "
          f"({len(manifest.documents)} documents, {manifest.chunk_count} chunks, {manifest.model_id}) "
          f"on http://{settings.host}:{settings.port}", file=sys.stderr, flush=True)
    app = create_app(settings, engine_loader=lambda _settings: engine)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=30)
    return 0
