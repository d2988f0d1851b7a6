"""Where a server start's time goes, step by step, in this (fresh) process: CPU and wall seconds per step.

``python -m bench.perf.startup_steps --index var/idx-seeds`` repeats, one step at a time, what
``grounded serve`` does before ``/ready``: the imports, loading the index, the query encoder and
the engine, the warm-up query and the app. The encoder steps are those of a second start (the
export read from the ONNX cache: key, verified entry, tokenizer, session, probes); with
``--export`` those of a first start instead (torch and sentence-transformers imported, the model
loaded, exported, checked and written to a temporary cache). Run it in a fresh interpreter, as
here: imports are part of a start. The CPU column is what the neighbours' load changes least.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Step = tuple[str, float, float]


class Stopwatch:
    """Records CPU (this process) and wall seconds per named step."""

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def run(self, name: str, action: Callable[[], Any]) -> Any:
        """Run ``action`` as step ``name``; returns its result."""
        cpu, wall = time.process_time(), time.perf_counter()
        result = action()
        self.steps.append((name, time.process_time() - cpu, time.perf_counter() - wall))
        return result


def _encoder_from_cache(watch: Stopwatch, manifest: Any) -> Any:
    import numpy as np

    from index import onnx_cache
    from index import query_encoder as encoders
    from ingest import resolve_model

    path, model_id = watch.run("resolve the model folder", lambda: resolve_model(manifest.model_id))
    key = watch.run("cache key: sha256 of the model's files, library versions",
                    lambda: onnx_cache.cache_key(Path(path), encoders.EXPORT_SETTINGS))
    files = watch.run("read the entry, sha256 of model.onnx", lambda: onnx_cache.read_entry(
        onnx_cache.onnx_cache_home(), key))
    if files is None:
        raise SystemExit(f"no cached export in {onnx_cache.onnx_cache_home()}: start the server once "
                         "(or run with --export)")
    tokenizer = watch.run("tokenizer (tokenizers library)", lambda: encoders._tokenizer(
        files.tokenizer.read_text(encoding="utf-8"), files.entry.max_length))
    encoder = watch.run("onnxruntime session", lambda: encoders._session_encoder(
        str(files.graph), tokenizer, model_id=model_id, dimension=files.entry.dimension, threads=1, origin="cache"))
    watch.run("probes against the stored torch vectors", lambda: encoders._check_probes(
        encoder, np.asarray(files.entry.probe_vectors, dtype=np.float32), against="the stored vectors"))
    return encoder


def _encoder_by_export(watch: Stopwatch, manifest: Any) -> Any:
    from index import onnx_cache
    from index import query_encoder as encoders
    from ingest import load_embedder, resolve_model

    watch.run("import torch", lambda: __import__("torch"))
    watch.run("import sentence_transformers", lambda: __import__("sentence_transformers"))
    base = watch.run("load the model with torch", lambda: load_embedder(manifest.model_id, threads=1))
    exported = watch.run("export to ONNX, session, probes against torch",
                         lambda: encoders.export_query_encoder(base, threads=1))
    path, _ = resolve_model(manifest.model_id)
    with tempfile.TemporaryDirectory(prefix="grounded-steps-") as home:
        key = onnx_cache.cache_key(Path(path), encoders.EXPORT_SETTINGS)
        watch.run("write the cache entry (fsync)", lambda: onnx_cache.write_entry(
            Path(home), key, graph=exported.graph, tokenizer_json=exported.tokenizer_json, entry=exported.entry))
    return exported.encoder


def measure(index_dir: Path, *, export: bool) -> list[Step]:
    """The steps of one start on ``index_dir`` (``export``: a first start's encoder steps)."""
    watch = Stopwatch()
    watch.run("import the CLI, service.server, uvicorn", lambda: (
        __import__("grounded.cli"), __import__("service.server"), __import__("uvicorn")))
    watch.run("import service.app, service.engine", lambda: (__import__("service.app"), __import__("service.engine")))
    from index import load_index
    from service.app import create_app
    from service.engine import QueryEngine, freeze_long_lived_objects
    from service.reload import warm_up
    from service.settings import load_settings

    index = watch.run("load and verify the index", lambda: load_index(index_dir))
    encoder = (_encoder_by_export if export else _encoder_from_cache)(watch, index.manifest)
    engine = watch.run("build the engine", lambda: QueryEngine(index, encoder))
    watch.run("warm-up query", lambda: warm_up(engine))
    watch.run("freeze long-lived objects (gc)", freeze_long_lived_objects)
    watch.run("create the app", lambda: create_app(load_settings(index_dir=index_dir), engine_loader=lambda _: engine))
    return watch.steps


def steps_table(steps: Sequence[Step], *, heavy: Sequence[str]) -> str:
    """The steps with CPU and wall seconds, their total, and the heavy modules imported by the end."""
    from bench.common.results import format_table

    rows: list[list[Any]] = [[name, round(cpu, 3), round(wall, 3)] for name, cpu, wall in steps]
    rows.append(["total", round(sum(step[1] for step in steps), 3), round(sum(step[2] for step in steps), 3)])
    return (format_table(["step", "CPU s", "wall s"], rows)
            + "\n\nImported by the end, of torch, transformers, sentence_transformers and openai: "
            + (", ".join(heavy) or "none"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf.startup_steps", description=__doc__)
    parser.add_argument("--index", type=Path, required=True, help="index folder to start on")
    parser.add_argument("--export", action="store_true",
                        help="a first start's encoder steps (export) instead of a second start's (cache)")
    args = parser.parse_args(argv)
    for name, value in (("HF_HUB_OFFLINE", "1"), ("TRANSFORMERS_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false")):
        os.environ.setdefault(name, value)
    steps = measure(args.index, export=args.export)
    heavy = [name for name in ("torch", "transformers", "sentence_transformers", "openai") if name in sys.modules]
    print(steps_table(steps, heavy=heavy))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
