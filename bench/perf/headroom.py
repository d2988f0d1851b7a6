"""Where each setting's misses are: candidate recall, ranking, or answer selection.

``python -m bench.perf.headroom --split test --setting seeds=var/idx-seeds:eval/data/gold.jsonl \
    --setting news=var/idx-news:eval/data/gold.jsonl,eval/data/gold-news.jsonl``

Per setting, over the answerable questions of the split, with the served configuration (the
product's engine, cache off): the share whose gold evidence is among the first stage's candidates
(``ranking.retrieval.first_stage``: the dense and the sparse top ``candidates`` before fusion cuts
them), in the top 5 and in the top 20 of the served ranking; the share for which some sentence of
the passages the answer is drawn from hits gold evidence (the ceiling of a perfect sentence
selector over the served ranking); and the served answer hit (an abstention counting as a miss,
as in the ceiling). Recall high and hit@5 low says the evidence is found and ranked too low: a
better ranker, not a deeper search, would close the gap.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.common.results import format_table
from bench.perf.tune import Setting, parse_setting, questions_of
from eval.gold import EvidenceSpan, GoldQuestion
from eval.metrics import covers, sentence_hits
from ranking.retrieval import SentenceSimilarities, first_stage
from ranking.stages import retrieve
from service.engine import QueryEngine, load_engine
from service.query_cache import cache_key
from service.records import Query


@dataclass(frozen=True, slots=True, kw_only=True)
class Headroom:
    """Shares of a setting's answerable questions (see the module docstring)."""

    questions: int
    in_candidates: float
    hit5: float
    hit20: float
    answer_ceiling: float
    answer_hit: float


def headroom(engine: QueryEngine, questions: Sequence[GoldQuestion]) -> Headroom:
    """Measure one setting's answerable ``questions`` against ``engine``'s configuration."""
    config = engine.config.ranking.retrieval
    index = engine.index

    def location(row: int) -> tuple[str, int, int]:
        chunk = index.chunks[row]
        return chunk.doc_id, chunk.start, chunk.end

    def hits(evidence: Sequence[EvidenceSpan], locations: Iterable[tuple[str, int, int]], *,
             sentences: bool = False) -> bool:
        match = sentence_hits if sentences else covers
        return any(match(place, span) for place in locations for span in evidence)

    counts = [0, 0, 0, 0, 0]
    answerable = [question for question in questions if question.answerable]
    for question in answerable:
        key = cache_key(Query(question=question.question, top_k=20))
        vector = engine.embedder.encode([key.text])[0]
        similarities = SentenceSimilarities(index, vector)
        candidates = first_stage(index, key.text, vector, config, None)
        ranked = retrieve(index, key.text, vector, top_k=20, config=config, similarities=similarities)
        sentences = engine.answer_candidates(ranked, similarities)
        result = engine.query(Query(question=question.question, top_k=10), use_cache=False)
        citations = result.answer.citations if result.answer is not None else ()
        evidence = question.evidence
        found = (
            hits(evidence, (location(hit.row) for hit in candidates)),
            hits(evidence, (location(scored.row) for scored in ranked[:5])),
            hits(evidence, (location(scored.row) for scored in ranked)),
            hits(evidence, ((c.sentence.doc_id, c.sentence.start, c.sentence.end) for c in sentences),
                 sentences=True),
            hits(evidence, ((c.doc_id, c.start, c.end) for c in citations), sentences=True),
        )
        counts = [count + int(value) for count, value in zip(counts, found, strict=True)]
    total = max(len(answerable), 1)
    return Headroom(questions=len(answerable), in_candidates=counts[0] / total, hit5=counts[1] / total,
                    hit20=counts[2] / total, answer_ceiling=counts[3] / total, answer_hit=counts[4] / total)


def run(settings: Sequence[Setting], split: str) -> list[tuple[str, Headroom]]:
    """``headroom`` of every setting, each over its own index with the served configuration."""
    results: list[tuple[str, Headroom]] = []
    for setting in settings:
        engine = load_engine(setting.index)
        texts = {doc_id: document.text for doc_id, document in engine.index.documents.items()}
        results.append((setting.name, headroom(engine, questions_of(setting, split, texts))))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf.headroom", description=__doc__.splitlines()[0])
    parser.add_argument("--setting", action="append", required=True, help="NAME=INDEX:GOLD[,GOLD]")
    parser.add_argument("--split", default="test", choices=("tune", "test", "all"))
    args = parser.parse_args(argv)
    rows = [[name, str(h.questions), f"{h.in_candidates:.3f}", f"{h.hit5:.3f}", f"{h.hit20:.3f}",
             f"{h.answer_ceiling:.3f}", f"{h.answer_hit:.3f}"]
            for name, h in run([parse_setting(spec) for spec in args.setting], args.split)]
    print(format_table(["setting", "answerable", "in first-stage candidates", "hit@5", "hit@20",
                        "answer ceiling (top passages' sentences)", "answer hit (abstaining = miss)"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
