"""Ray ingest benchmark: texts/s of ``grounded ingest --ray`` at 1 and 2 actors against one process.

All three ingest the same generated corpus fresh, in the same run, on one local cluster started
here (and shut down at the end); each must publish the same ``index_version``. The Ray figures
include what a real run pays: the model loaded by every actor, the describing task and Ray Data's
scheduling; the cluster's own start is measured apart.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench.common.corpus import BigramNews, write_corpus
from bench.common.process import log
from bench.common.results import format_table


@dataclass(frozen=True, slots=True, kw_only=True)
class RayIngestBenchConfig:
    """Generated corpus size, the single process's torch threads and the actor counts to try."""

    corpus: Path
    documents: int = 40
    threads: int = 2
    seed: int = 11
    actors: tuple[int, ...] = (1, 2)
    cpus: int = 2


def run_ray_ingest_bench(config: RayIngestBenchConfig) -> dict[str, Any]:
    """Fresh single-process ingest, then fresh Ray ingests at each actor count; texts/s of each."""
    import ray

    from index.build import ingest
    from index.ray_build import RayOptions, ray_ingest
    from ingest.embedding import load_embedder

    workdir = Path(tempfile.mkdtemp(prefix="grounded-ray-bench-"))
    try:
        corpus = workdir / "corpus"
        write_corpus(corpus, config.documents, config.seed, writer=partial(BigramNews, config.corpus), digits=4)
        log(f"ray-ingest: single process, {config.threads} torch threads")
        started = time.perf_counter()
        embedder = load_embedder(None, precision="auto", threads=config.threads)
        local = ingest([corpus], workdir / "local", embedder)
        local_seconds = time.perf_counter() - started
        texts = local.chunk_count + local.sentence_count
        runs: list[dict[str, Any]] = [{
            "path": f"single process ({config.threads} threads)", "seconds": round(local_seconds, 3),
            "texts_per_second": round(texts / local_seconds, 2), "same_index_version": True}]
        started = time.perf_counter()
        ray.init(num_cpus=config.cpus, include_dashboard=False, log_to_driver=False)
        cluster_seconds = time.perf_counter() - started
        try:
            for actors in config.actors:
                log(f"ray-ingest: Ray, {actors} actor(s)")
                started = time.perf_counter()
                report = ray_ingest([corpus], workdir / f"ray-{actors}", model=None,
                                    options=RayOptions(actors=actors))
                seconds = time.perf_counter() - started
                runs.append({"path": f"Ray, {actors} actor(s) x 1 CPU", "seconds": round(seconds, 3),
                             "texts_per_second": round(texts / seconds, 2),
                             "same_index_version": report.manifest.index_version == local.manifest.index_version})
        finally:
            ray.shutdown()
        return {"corpus": f"{config.documents} generated news-like documents (bigram chain over {config.corpus})",
                "documents": len(local.documents), "chunks": local.chunk_count,
                "sentences": local.sentence_count, "texts": texts,
                "sentence_method": local.manifest.sentence_vectors, "cluster_cpus": config.cpus,
                "cluster_start_seconds": round(cluster_seconds, 3), "runs": runs}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def ray_ingest_table(result: dict[str, Any]) -> str:
    """Markdown table of the Ray ingest benchmark."""
    rows = [[run["path"], run["seconds"], run["texts_per_second"], "yes" if run["same_index_version"] else "NO"]
            for run in result["runs"]]
    title = (f"{result['documents']} documents, {result['chunks']} chunks + {result['sentences']} sentences "
             f"({result['sentence_method']}); cluster start {result['cluster_start_seconds']} s, not included")
    return title + "\n\n" + format_table(["path", "fresh ingest, s", "texts/s", "same index_version"], rows)
