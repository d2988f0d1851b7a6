"""``grounded bench``: run the benchmarks, write one JSON file per suite and print summary tables."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common.process import cores_obtained, log
from bench.common.results import write_json

SUITES = ("query", "startup", "ingest", "precision", "index", "scale")
# Run only when named: ray-ingest, ray-serve and shards need the optional Ray extra; scale-e2e
# builds a 1M-chunk index (hours on 2 cores).
# verifier needs the written claims' corpora and their indexes (make training-indexes).
EXTRA_SUITES = ("ray-ingest", "ray-serve", "shards", "scale-e2e", "verifier")
DEFAULT_OUT = Path("bench-results")
DEFAULT_CORPUS = Path("data/corpus")


def _sizes(text: str) -> tuple[int, ...]:
    """Parse ``10000,100000`` or ``10k,1m`` into sizes."""
    sizes = []
    for raw in text.split(","):
        part = raw.strip().lower()
        multiplier = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        sizes.append(int(float(part.rstrip("km")) * multiplier))
    return tuple(sizes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``grounded bench`` (``--index`` is added by the main parser)."""
    parser.add_argument("suite", nargs="?", choices=(*SUITES, *EXTRA_SUITES, "all"), default="all",
                        help="which benchmark to run (default: all, scale last)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for the JSON results (default: %(default)s)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="seed corpus, ingested into --index when that holds no index")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch/FAISS threads of the served query path and of the bare encode "
                             "it is compared with (default: %(default)s)")
    parser.add_argument("--startup-index", type=Path, action="append", default=[], metavar="DIR",
                        help="startup: another index to start beside --index (repeatable), e.g. a larger one")
    parser.add_argument("--startup-rounds", type=int, default=3,
                        help="startup: first-and-second-start rounds per index; the table shows medians "
                             "(default: %(default)s)")
    parser.add_argument("--ingest-threads", type=int, default=os.cpu_count() or 1,
                        help="torch threads for the ingest and precision benchmarks (default: all cores)")
    parser.add_argument("--requests", type=int, default=128,
                        help="requests per mode and concurrency level (default: %(default)s)")
    parser.add_argument("--cell-seconds", type=float, default=60.0,
                        help="time bound of one mode x concurrency measurement (default: %(default)s)")
    parser.add_argument("--model", default=None,
                        help="model preset or folder for the ingest benchmark (default: minilm)")
    parser.add_argument("--ingest-documents", type=int, default=40,
                        help="generated news-like documents for the ingest benchmark (default: %(default)s)")
    parser.add_argument("--sentence-methods", action="store_true",
                        help="ingest suite: compare sentence vectors encoded apart with pooled from "
                             "their chunk (fresh ingests of --corpus plus --distractors, alternating)")
    parser.add_argument("--distractors", type=Path, default=None,
                        help="folder of unrelated articles added to --corpus for --sentence-methods")
    parser.add_argument("--distractor-count", type=int, default=200,
                        help="evenly spread articles taken from --distractors (default: %(default)s)")
    parser.add_argument("--ingest-rounds", type=int, default=1,
                        help="alternating rounds per method for --sentence-methods (default: %(default)s)")
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip the pyinstrument profile of ingest")
    parser.add_argument("--sizes", type=_sizes, default=(10_000, 100_000, 1_000_000),
                        help="dense scale sizes, e.g. 10k,100k,1m")
    parser.add_argument("--bm25-sizes", type=_sizes, default=(10_000, 100_000, 1_000_000),
                        help="BM25 scale sizes (a size whose estimated build exceeds "
                             "--bm25-budget is skipped and reported)")
    parser.add_argument("--bm25-budget", type=float, default=300.0,
                        help="seconds a BM25 scale step may be estimated to take (default: %(default)s)")
    parser.add_argument("--scale-queries", type=int, default=200,
                        help="queries for recall and latency at each scale size (default: %(default)s)")
    parser.add_argument("--index-chunks", type=int, default=10_000,
                        help="chunks of the generated full index of the 'index' suite (default: %(default)s)")
    parser.add_argument("--shards", type=int, default=2,
                        help="ray-serve: shards of the index ingested from --corpus when --index holds "
                             "no sharded index (default: %(default)s)")
    parser.add_argument("--serve-rounds", type=int, default=3,
                        help="ray-serve: rounds of the gold questions sent to each server (default: %(default)s)")
    parser.add_argument("--chunks", type=lambda text: _sizes(text)[0], default=1_000_000,
                        help="scale-e2e: chunks of the generated index, e.g. 100k or 1m (default: 1m)")
    parser.add_argument("--e2e-queries", type=int, default=300,
                        help="scale-e2e: sequential hybrid /query requests timed (default: %(default)s)")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="scale-e2e: folder for the corpus and index (default: the system temp folder)")
    parser.add_argument("--generated-corpus", type=Path, default=None,
                        help="scale-e2e: ingest this corpus, written by an earlier --keep run, instead of "
                             "writing one (--chunks then only labels the run)")
    parser.add_argument("--built-index", type=Path, default=None,
                        help="scale-e2e: serve this index, built by an earlier --keep run from "
                             "--generated-corpus, instead of ingesting again")
    parser.add_argument("--keep", action="store_true",
                        help="scale-e2e: keep the generated corpus and index (the result names the folder)")
    parser.add_argument("--shard-counts", type=_sizes, default=(2, 4),
                        help="shard counts the 'shards' suite compares with the unsharded index "
                             "(default: 2,4)")
    parser.add_argument("--timing-seconds", type=float, default=20.0,
                        help="time bound of one scale latency loop (default: %(default)s)")
    parser.add_argument("--split", choices=("tune", "test"), default="test",
                        help="verifier: the written claims measured (default: test; tune chose the policy)")
    parser.add_argument("--verifier", type=Path, default=None, metavar="DIR",
                        help="verifier: the model folder (default: the shipped models/verifier-minilm-v2)")
    parser.add_argument("--claim-index", action="append", default=[], metavar="CORPUS=DIR",
                        help="verifier: the index of a claims corpus (repeatable; default: news=var/idx-news, "
                             "git=var/idx-git, flask=var/idx-flask, those that exist)")
    parser.add_argument("--latency-runs", type=int, default=40,
                        help="verifier: timed /check runs per path (default: %(default)s)")


def machine_info() -> dict[str, Any]:
    """CPU, cores, memory, library versions, load and date: what decides and qualifies the numbers."""
    import bm25s
    import faiss
    import numpy
    import sentence_transformers
    import torch

    cpu_model, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name") and cpu_model == "unknown":
                cpu_model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "simd": sorted(flag for flag in flags
                       if flag in {"avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "fma"}),
        "memory_bytes": memory,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "faiss": faiss.__version__,
        "numpy": numpy.__version__,
        "bm25s": bm25s.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def ensure_index(index_dir: Path, corpus: Path, threads: int) -> Path:
    """Use the index in ``index_dir``, ingesting ``corpus`` into it first when there is none."""
    if (index_dir / "CURRENT").exists():
        return index_dir
    from index.build import ingest
    from ingest.embedding import load_embedder

    log(f"no index in {index_dir}: ingesting {corpus}")
    ingest([corpus], index_dir, load_embedder(None, precision="auto", threads=threads))
    return index_dir


def _run_suite(name: str, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """Run one suite; return its results and its printed tables."""
    if name == "query":
        from bench.perf.query import QueryBenchConfig, query_tables, run_query_bench

        index_dir = ensure_index(args.index, args.corpus, args.ingest_threads)
        result = run_query_bench(QueryBenchConfig(
            index_dir=index_dir, threads=args.threads, requests=args.requests,
            cell_seconds=args.cell_seconds))
        return result, query_tables(result)
    if name == "startup":
        from bench.perf.startup import StartupBenchConfig, run_startup_bench, startup_table

        index_dir = ensure_index(args.index, args.corpus, args.ingest_threads)
        result = run_startup_bench(StartupBenchConfig(
            indexes=(index_dir, *args.startup_index), rounds=args.startup_rounds, threads=args.threads))
        return result, startup_table(result)
    if name == "ingest" and args.sentence_methods:
        from bench.perf.ingest_speed import (
            SentenceMethodsConfig,
            run_sentence_methods_bench,
            sentence_methods_table,
        )

        result = run_sentence_methods_bench(SentenceMethodsConfig(
            seeds=args.corpus, distractors=args.distractors, distractor_count=args.distractor_count,
            threads=args.ingest_threads, rounds=args.ingest_rounds))
        return result, sentence_methods_table(result)
    if name == "ingest":
        from bench.perf.ingest_speed import IngestBenchConfig, ingest_tables, run_ingest_bench

        result = run_ingest_bench(IngestBenchConfig(
            corpus=args.corpus, documents=args.ingest_documents, threads=args.ingest_threads, model=args.model,
            profile_to=args.out / "ingest-profile.txt" if args.profile else None))
        return result, ingest_tables(result)
    if name == "ray-ingest":
        from bench.perf.ray_ingest import RayIngestBenchConfig, ray_ingest_table, run_ray_ingest_bench

        result = run_ray_ingest_bench(RayIngestBenchConfig(
            corpus=args.corpus, documents=args.ingest_documents, threads=args.ingest_threads))
        return result, ray_ingest_table(result)
    if name == "ray-serve":
        from bench.perf.ray_serve import RayServeBenchConfig, ray_serve_table, run_ray_serve_bench

        result = run_ray_serve_bench(RayServeBenchConfig(
            corpus=args.corpus, index=args.index, shards=args.shards, rounds=args.serve_rounds,
            threads=args.threads))
        return result, ray_serve_table(result)
    if name == "precision":
        from bench.perf.precision import precision_tables, run_precision_bench

        index_dir = ensure_index(args.index, args.corpus, args.ingest_threads)
        result = run_precision_bench(index_dir, threads=args.ingest_threads,
                                     query_threads=args.threads)
        return result, precision_tables(result)
    if name == "shards":
        from bench.perf.shards import measure_shards, shards_table

        result = measure_shards(args.corpus, target_chunks=args.index_chunks, shard_counts=args.shard_counts)
        return result, shards_table(result)
    if name == "index":
        from bench.perf.full_index import full_index_table, measure_full_index

        result = measure_full_index(args.corpus, target_chunks=args.index_chunks)
        return result, full_index_table(result)
    if name == "scale-e2e":
        from bench.perf.scale_e2e import ScaleEndToEndConfig, run_scale_end_to_end, scale_end_to_end_table

        result = run_scale_end_to_end(ScaleEndToEndConfig(
            seed_corpus=args.corpus, chunks=args.chunks, queries=args.e2e_queries, workdir=args.workdir,
            keep=args.keep, corpus=args.generated_corpus,
            index=args.built_index))
        return result, scale_end_to_end_table(result)
    if name == "verifier":
        from bench.perf.verifier import run_verifier_bench, verifier_tables

        pairs = [item.split("=", 1) for item in args.claim_index] or [
            [corpus, f"var/idx-{corpus}"] for corpus in ("news", "git", "flask") if Path(f"var/idx-{corpus}").exists()]
        result = run_verifier_bench(indexes={corpus: Path(folder) for corpus, folder in pairs}, split=args.split,
                                    verifier_folder=args.verifier, latency_runs=args.latency_runs)
        return result, verifier_tables(result)
    from bench.perf.scale import run_scale, scale_tables
    from bench.perf.scale_config import ScaleConfig

    config = ScaleConfig(sizes=args.sizes, bm25_sizes=args.bm25_sizes, queries=args.scale_queries,
                         timing_seconds=args.timing_seconds, bm25_budget_seconds=args.bm25_budget)
    seed_vectors = None
    if (args.index / "CURRENT").exists():
        import numpy as np

        from index.load import load_index

        seed_vectors = np.asarray(load_index(args.index).sentence_vectors)
    partial_path = args.out / "scale.json"

    def checkpoint(partial: dict[str, Any]) -> None:
        write_json(partial_path, {"suite": "scale", "complete": False, "machine": machine_info(),
                                  "results": partial})

    result = run_scale(config, corpus=args.corpus, checkpoint=checkpoint, seed_vectors=seed_vectors)
    return result, scale_tables(result)


def build_parser(index_default: Path) -> argparse.ArgumentParser:
    """The parser of ``grounded bench`` (``index_default``: the product CLI's default index folder)."""
    parser = argparse.ArgumentParser(prog="grounded bench",
                                     description="measure query latency, start-up, ingest speed, precision and scale")
    parser.add_argument("--index", type=Path, default=index_default, help="index folder (default: %(default)s)")
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None, *, index_default: Path = Path("var/index")) -> int:
    """Entry point of ``grounded bench`` (dispatched lazily by the product CLI)."""
    return run_bench(build_parser(index_default).parse_args(argv))


def run_bench(args: argparse.Namespace, *, printer: Callable[[str], None] = print) -> int:
    """Entry point of ``grounded bench``: run the chosen suites, write ``--out/<suite>.json``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    suites = SUITES if args.suite == "all" else (args.suite,)
    missing = [str(path) for path in args.startup_index if not (path / "CURRENT").exists()]
    if "startup" in suites and missing:
        print(f"grounded bench: error: --startup-index {', '.join(missing)} holds no index; build it with "
              "`grounded ingest CORPUS --index DIR`", file=sys.stderr)
        return 2
    command = "grounded " + " ".join(sys.argv[1:]) if sys.argv[1:] else "grounded bench"
    for name in suites:
        log(f"suite {name}: start")
        machine_before = machine_info()
        cores_before = cores_obtained()
        result, tables = _run_suite(name, args)
        cores_after = cores_obtained()
        write_json(args.out / f"{name}.json", {
            "suite": name, "complete": True, "command": command, "machine": machine_before,
            "load_average_after": [round(value, 2) for value in os.getloadavg()],
            "cores_obtained_by_two_busy_processes": {"before": cores_before, "after": cores_after},
            "results": result,
        })
        tables += (f"\n\nCores two busy processes obtained (of {os.cpu_count()}): "
                   f"{cores_before} before, {cores_after} after; load average "
                   f"{machine_before['load_average'][0]} before.")
        printer(f"\n## {name}\n\n{tables}\n")
        log(f"suite {name}: wrote {args.out / (name + '.json')}")
    return 0
