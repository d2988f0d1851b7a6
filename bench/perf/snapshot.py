"""Every gold question's ranking and answer, as JSON: the before/after check of a ranking refactor.

``python -m bench.perf.snapshot --setting seeds=var/idx-seeds:eval/data/gold.jsonl --out before.json``
asks every question of every setting in every mode (hybrid, dense, sparse) at ``top_k`` 5 and 20
through the product's engine (cache off) and writes the passages (chunk, range, score), the
answer's citations, the abstention and the answer score. Two snapshots compare with ``cmp``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.perf.tune import parse_setting, questions_of
from index.records import Mode
from service.engine import load_engine
from service.records import Query

MODES: tuple[Mode, ...] = ("hybrid", "dense", "sparse")
DEPTHS = (5, 20)


def main(argv: list[str] | None = None) -> int:
    """Write the snapshot of the given settings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--setting", action="append", required=True, help="NAME=INDEX:GOLD[,GOLD...]")
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args(argv)
    snapshot: dict[str, list[object]] = {}
    for spec in arguments.setting:
        setting = parse_setting(spec)
        engine = load_engine(setting.index)
        texts = {doc_id: document.text for doc_id, document in engine.index.documents.items()}
        rows: list[object] = []
        for question in questions_of(setting, "all", texts):
            for mode in MODES:
                for depth in DEPTHS:
                    result = engine.query(Query(question=question.question, top_k=depth, mode=mode),
                                          use_cache=False)
                    answer = result.answer
                    rows.append({
                        "query_id": question.query_id, "mode": mode, "top_k": depth,
                        "index_version": result.index_version,
                        "passages": [[p.chunk_id, p.start, p.end, p.score] for p in result.passages],
                        "answer": None if answer is None else [[c.doc_id, c.start, c.end, c.passage_rank]
                                                               for c in answer.citations],
                        "abstention": result.abstention_reason, "answer_score": result.answer_score,
                    })
        snapshot[setting.name] = rows
        print(f"{setting.name}: {len(rows)} queries")
    arguments.out.write_text(json.dumps(snapshot, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
