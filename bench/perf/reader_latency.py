"""The reader's cost, side by side with the rules path, in one run on the same loaded index.

``python -m bench.perf.reader_latency --setting seeds=var/idx-seeds:eval/data/gold.jsonl --reader shipped``
asks every gold question of each setting through the product's engine (cache off, in process, one
thread, each question embedded every time as served) with the rules alone and with the reader at several
pool sizes (``rerank.passages``), interleaved question by question so machine noise hits every
column alike; prints p50 / p95 per column and each column's p50 over the rules' p50.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common.results import format_table
from bench.perf.tune import parse_setting, questions_of
from ranking import RankingConfig, with_knobs
from ranking.reader_model import load_reader, reader_folder
from service.engine import EngineConfig, QueryEngine, load_engine
from service.records import Query

ROUNDS = 3


def main(argv: list[str] | None = None) -> int:
    """Print the latency table."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.reader_latency", description=__doc__.splitlines()[0])
    parser.add_argument("--setting", action="append", required=True, help="NAME=INDEX:GOLD[,GOLD]")
    parser.add_argument("--reader", default="shipped", metavar="shipped|DIR")
    parser.add_argument("--passages", default="5,10,20", help="rerank.passages values to time")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    folder = reader_folder(args.reader)
    if folder is None:
        raise SystemExit("--reader must name a reader (shipped or a folder)")
    reader = load_reader(folder)
    sizes = [int(value) for value in args.passages.split(",")]
    rows: list[list[str]] = []
    for spec in args.setting:
        setting = parse_setting(spec)
        base = load_engine(setting.index)
        encoder = base.embedder
        texts = {doc_id: document.text for doc_id, document in base.index.documents.items()}
        questions = [question.question for question in questions_of(setting, "all", texts)]
        columns: dict[str, QueryEngine] = {"rules": QueryEngine(base.index, encoder, EngineConfig(cache_size=0))}
        for size in sizes:
            config = with_knobs(RankingConfig(), {"rerank.passages": size})
            columns[f"reader N={size}"] = QueryEngine(base.index, encoder,
                                                      EngineConfig(ranking=config, cache_size=0), reader=reader)
        for question in questions:  # warm: caches and pools filled
            for engine in columns.values():
                engine.query(Query(question=question, top_k=5), use_cache=False)
        timings: dict[str, list[float]] = {name: [] for name in columns}
        for _ in range(args.rounds):
            for question in questions:
                for name, engine in columns.items():
                    started = time.perf_counter()
                    engine.query(Query(question=question, top_k=5), use_cache=False)
                    timings[name].append((time.perf_counter() - started) * 1000)
        rules_p50 = float(np.percentile(timings["rules"], 50))
        for name, values in timings.items():
            p50, p95 = float(np.percentile(values, 50)), float(np.percentile(values, 95))
            rows.append([setting.name, name, str(len(values)), f"{p50:.1f}", f"{p95:.1f}", f"{p50 / rules_p50:.2f}x"])
    print(format_table(["setting", "path", "queries", "p50 ms", "p95 ms", "p50 / rules p50"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
