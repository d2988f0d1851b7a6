"""Bare question encoding, outside the service: torch and the served runtime, and thread scaling.

The query benchmark compares the served latency with these bare costs on the same questions.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common.stats import safe_ratio


def _torch_model(precision: str, threads: int, model: str | None = None) -> Any:
    """The index's sentence-transformers model (``model``: a manifest's model id, ``None`` the default)
    on CPU at ``precision``, torch limited to ``threads``."""
    import torch
    from sentence_transformers import SentenceTransformer

    from ingest.embedding import resolve_model

    torch.set_num_threads(threads)
    kwargs: dict[str, Any] = {}
    if precision == "bfloat16":
        kwargs["model_kwargs"] = {"torch_dtype": torch.bfloat16}
    return SentenceTransformer(resolve_model(model)[0], device="cpu", **kwargs)


def bare_encode_latencies(questions: Sequence[str], *, precision: str, threads: int,
                          passes: int, model: str | None = None) -> list[float]:
    """``model.encode([question])`` milliseconds for every question, ``passes`` times (first is warm-up)."""
    loaded = _torch_model(precision, threads, model)
    return _time_each(lambda question: loaded.encode([question], convert_to_numpy=True, normalize_embeddings=True),
                      questions, passes)


def bare_served_encode(questions: Sequence[str], *, precision: str, threads: int,
                       passes: int, model: str | None = None) -> dict[str, Any]:
    """The encoder the server really uses for questions (ONNX Runtime where the model allows), bare.

    Returns its runtime, its milliseconds per question (``passes`` times, the first a warm-up) and
    the least cosine between its vector and torch's over the questions.
    """
    from index.query_encoder import OnnxUnavailableError, onnx_query_embedder
    from ingest.embedding import SentenceTransformerEmbedder, load_embedder

    base = load_embedder(model, precision=precision, threads=threads)
    assert isinstance(base, SentenceTransformerEmbedder)
    try:
        encoder: Any = onnx_query_embedder(base, threads=threads)
        runtime = "onnxruntime"
    except OnnxUnavailableError:
        encoder, runtime = base, "torch"
    cosines = [float(encoder.encode([question])[0] @ base.encode([question])[0]) for question in questions]
    return {"runtime": runtime, "latencies": _time_each(lambda question: encoder.encode([question]), questions,
                                                        passes),
            "min_cosine_to_torch": round(min(cosines), 8)}


def _time_each(encode: Any, questions: Sequence[str], passes: int) -> list[float]:
    """Milliseconds of ``encode(question)`` for every question, ``passes`` times (the first is a warm-up)."""
    latencies: list[float] = []
    for number in range(passes):
        for question in questions:
            started = time.perf_counter()
            encode(question)
            if number > 0:
                latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _schedstat() -> tuple[int, int]:
    """``(on-CPU ns, run-queue wait ns)`` of the calling thread (Linux ``schedstat``)."""
    fields = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").read_text().split()
    return int(fields[0]), int(fields[1])


def encode_thread_scaling(questions: Sequence[str], *, precision: str, requests: int = 128,
                          model: str | None = None) -> dict[str, Any]:
    """Bare single-question encode throughput with 1 and 2 Python threads (1 torch thread each).

    Per thread, wall time splits into on-CPU, waiting for a core (run queue: the machine is
    busy) and blocked (mostly the GIL). Low throughput gain with large run-queue wait means the
    cores were taken; with large blocked time it means the GIL serialises the encoder.
    """
    loaded = _torch_model(precision, 1, model)
    for question in questions[:8]:
        loaded.encode([question])
    result: dict[str, Any] = {}
    for workers in (1, 2):
        shares: list[dict[str, float]] = []

        def work(count: int, shares: list[dict[str, float]] = shares) -> None:
            cpu_before, wait_before = _schedstat()
            started = time.perf_counter()
            for number in range(count):
                loaded.encode([questions[number % len(questions)]], normalize_embeddings=True)
            wall = time.perf_counter() - started
            cpu_after, wait_after = _schedstat()
            cpu, wait = (cpu_after - cpu_before) / 1e9, (wait_after - wait_before) / 1e9
            shares.append({"wall_s": round(wall, 3), "on_cpu_s": round(cpu, 3),
                           "run_queue_s": round(wait, 3), "blocked_s": round(wall - cpu - wait, 3)})

        threads = [threading.Thread(target=work, args=(requests // workers,)) for _ in range(workers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        result[f"threads_{workers}"] = {"encodes_per_second": round(requests / wall, 1),
                                        "per_thread": shares}
    result["speed_up"] = round(safe_ratio(result["threads_2"]["encodes_per_second"],
                                          result["threads_1"]["encodes_per_second"]), 3)
    return result
