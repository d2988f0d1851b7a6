"""A whole index of a generated corpus at a target size: ingest, disk, memory and query stages without the model."""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.common.corpus import BigramNews, write_corpus
from bench.common.process import log, return_freed_memory_promptly, rss_bytes
from bench.common.results import format_table
from bench.common.stats import summarise


def measure_full_index(seed_corpus: Path, *, target_chunks: int = 10_000,
                       workdir: Path | None = None) -> dict[str, Any]:
    """A whole index (records, vectors, FAISS, BM25) of a generated corpus, at ``target_chunks``.

    Ingested with the hashing embedder, so the times are everything but the model: what ingest,
    loading and the engine cost per chunk on top of encoding. Memory is the resident growth of
    ``load_index``; the engine's query stages are timed on the gold questions.
    """
    from eval.gold import load_gold
    from index.build import ingest
    from index.load import load_index
    from ingest.embedding import HashingEmbedder
    from service.engine import QueryEngine
    from service.records import Query

    return_freed_memory_promptly()
    folder = Path(tempfile.mkdtemp(prefix="grounded-full-index-", dir=workdir))
    try:
        # About seven chunks per generated article (8..16 paragraphs, 180-token chunks).
        corpus = folder / "corpus"
        write_corpus(corpus, max(1, target_chunks // 7), 5, writer=partial(BigramNews, seed_corpus), digits=4)
        embedder = HashingEmbedder(384)
        log(f"full index: ingesting {len(list(corpus.iterdir()))} generated documents")
        started = time.perf_counter()
        report = ingest([corpus], folder / "index", embedder)
        ingest_seconds = time.perf_counter() - started
        version = folder / "index" / "versions" / report.manifest.index_version
        disk = sum(path.stat().st_size for path in version.rglob("*") if path.is_file())
        gc.collect()
        before = rss_bytes()
        started = time.perf_counter()
        index = load_index(folder / "index")
        load_seconds = time.perf_counter() - started
        gc.collect()
        resident = rss_bytes() - before
        log("full index: engine and queries")
        started = time.perf_counter()
        engine = QueryEngine(index, embedder)
        engine_seconds = time.perf_counter() - started
        stages: dict[str, list[float]] = {"search": [], "rescore": [], "answer": [], "total": []}
        for item in load_gold():
            timings = engine.query(Query(question=item.question), use_cache=False).timings
            for stage, values in stages.items():
                values.append(float(getattr(timings, stage)))
        chunks = report.chunk_count
        return {
            "documents": len(report.documents), "chunks": chunks, "sentences": report.sentence_count,
            "sentences_per_chunk": round(report.sentence_count / chunks, 2),
            "faiss_index": report.manifest.faiss_index,
            "ingest_seconds_without_model": round(ingest_seconds, 2),
            "ingest_chunks_per_second_without_model": round(chunks / ingest_seconds, 1),
            "disk_bytes": disk, "disk_bytes_per_chunk": round(disk / chunks, 1),
            "load_index_seconds": round(load_seconds, 3), "rss_delta_bytes": resident,
            "rss_bytes_per_chunk": round(resident / chunks, 1),
            "engine_init_seconds": round(engine_seconds, 3),
            "hybrid_stage_ms": {stage: summarise(values).as_dict() for stage, values in stages.items()},
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def full_index_table(result: dict[str, Any]) -> str:
    """Markdown table of the full-index measurement."""
    stages = result["hybrid_stage_ms"]
    return format_table(["measure", "value"], [
        ["documents / chunks / sentences",
         f"{result['documents']} / {result['chunks']} / {result['sentences']}"],
        ["ingest without the model, s (chunks/s)",
         f"{result['ingest_seconds_without_model']} ({result['ingest_chunks_per_second_without_model']})"],
        ["index folder on disk, bytes per chunk", result["disk_bytes_per_chunk"]],
        ["load_index, s", result["load_index_seconds"]],
        ["resident memory of the loaded index, bytes per chunk", result["rss_bytes_per_chunk"]],
        ["QueryEngine construction, s", result["engine_init_seconds"]],
        ["hybrid query without embedding: search / rescore / answer / total p50 ms",
         " / ".join(f"{stages[name]['p50']:.2f}" for name in ("search", "rescore", "answer", "total"))],
    ])
