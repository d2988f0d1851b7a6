"""Choose retrieval and answer defaults on the tune split of the gold sets, report them on the rest.

``python -m bench.perf.tune --setting seeds=var/idx-seeds:eval/data/gold.jsonl \
    --setting news=var/idx-news:eval/data/gold.jsonl,eval/data/gold-news.jsonl --split tune``

Each setting is an index and the gold files evaluated on it. Every configuration of the grid is
run through the product's own engine (``service.engine.QueryEngine``, cache off) on every setting;
the table shows, per setting, evidence hit@5, MRR@10 (first passage covering gold evidence),
answer hit rate (an answer sentence overlaps gold evidence by half of either), false abstentions
and abstentions on unanswerable questions. The question vectors are computed once per setting.
From the second configuration on, the last column is the paired-bootstrap difference (95 %
interval) of answer hits against the first configuration of the grid, over every answerable
question (an abstention counts as a miss).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.common.results import format_table
from eval.bootstrap import paired_bootstrap
from eval.gold import GoldQuestion, load_gold, resolve_gold
from eval.metrics import covers, sentence_hits
from eval.splits import select_split
from ranking import RankingConfig, knobs, parse_value, with_knobs
from ranking.config import resolve_knob
from ranking.reader_model import load_reader, reader_folder
from service.engine import EngineConfig, QueryEngine, load_engine
from service.records import Query


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """An index folder and the gold questions asked of it."""

    name: str
    index: Path
    gold: tuple[Path, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Scores:
    """Per-setting figures of one configuration."""

    hit5: float
    mrr10: float
    answer_hit: float
    false_abstention: float
    abstained_unanswerable: float
    answerable: int
    unanswerable: int
    answer_hits: tuple[float, ...]
    """Per answerable question: 1.0 when an answer sentence hits gold evidence (abstaining: 0.0)."""


class _MemoEncoder:
    """The engine's encoder with a memory: every configuration asks the same questions."""

    def __init__(self, base: object) -> None:
        self._base = base
        self._memo: dict[str, npt.NDArray[np.float32]] = {}
        self.model_id = base.model_id  # type: ignore[attr-defined]
        self.dimension = base.dimension  # type: ignore[attr-defined]
        self.precision = base.precision  # type: ignore[attr-defined]

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        missing = [text for text in texts if text not in self._memo]
        if missing:
            vectors = self._base.encode(missing)  # type: ignore[attr-defined]
            self._memo.update(zip(missing, vectors, strict=True))
        return np.stack([self._memo[text] for text in texts])


def parse_setting(spec: str) -> Setting:
    """``NAME=INDEX:GOLD[,GOLD...]``."""
    name, _, rest = spec.partition("=")
    index, _, gold = rest.partition(":")
    if not name or not index or not gold:
        raise SystemExit(f"--setting {spec!r}: use NAME=INDEX_DIR:GOLD.jsonl[,GOLD.jsonl]")
    return Setting(name=name, index=Path(index), gold=tuple(Path(path) for path in gold.split(",")))


def questions_of(setting: Setting, split: str, document_texts: dict[str, str]) -> list[GoldQuestion]:
    """The setting's gold questions of ``split`` ("all" keeps every one), text anchors placed."""
    chosen: list[GoldQuestion] = []
    for path in setting.gold:
        questions = load_gold(path)
        if split != "all":
            questions = select_split(questions, split)  # type: ignore[arg-type]
        chosen += resolve_gold(questions, document_texts)
    return chosen




def score(engine: QueryEngine, questions: Sequence[GoldQuestion]) -> Scores:
    """Run every question once (cache off) and score it."""
    hits, reciprocal, answer_hits, false_abstentions, abstained = [], [], [], [], []
    per_question: list[float] = []
    for question in questions:
        result = engine.query(Query(question=question.question, top_k=10, mode=engine.config.ranking.retrieval.mode),
                              use_cache=False)
        if not question.answerable:
            abstained.append(float(result.answer is None))
            continue
        locations = [(passage.doc_id, passage.start, passage.end) for passage in result.passages]
        rank = next((number for number, location in enumerate(locations, 1)
                     if any(covers(location, span) for span in question.evidence)), None)
        hits.append(float(rank is not None and rank <= 5))
        reciprocal.append(1.0 / rank if rank is not None else 0.0)
        false_abstentions.append(float(result.answer is None))
        if result.answer is not None:
            answer_hits.append(float(any(sentence_hits((citation.doc_id, citation.start, citation.end), span)
                                         for citation in result.answer.citations
                                         for span in question.evidence)))
        per_question.append(answer_hits[-1] if result.answer is not None else 0.0)
    return Scores(hit5=_mean(hits), mrr10=_mean(reciprocal), answer_hit=_mean(answer_hits),
                  false_abstention=_mean(false_abstentions), abstained_unanswerable=_mean(abstained),
                  answerable=len(hits), unanswerable=len(abstained), answer_hits=tuple(per_question))


def _paired(scores: Scores, first: Scores) -> str:
    """Mean difference of answer hits to the first configuration, with its 95 % interval."""
    if scores is first or not scores.answer_hits:
        return "–"
    result = paired_bootstrap(scores.answer_hits, first.answer_hits)
    return f"{result.mean_difference:+.3f} [{result.low:+.3f}, {result.high:+.3f}]"


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


GRID: dict[str, tuple[Any, ...]] = {item.name: (item.default,) for item in knobs()}
"""Every knob of ``ranking.RankingConfig`` at the product's default; ``--grid`` replaces a knob's values."""


def configs(grid: dict[str, tuple[Any, ...]]) -> Iterator[tuple[str, EngineConfig]]:
    """Every combination of the grid as a named engine configuration."""
    names = list(grid)
    for values in itertools.product(*(grid[name] for name in names)):
        chosen: dict[str, Any] = dict(zip(names, values, strict=True))
        ranking = with_knobs(RankingConfig(), chosen)
        label = " ".join(f"{name.partition('.')[2]}={value}" for name, value in chosen.items()
                         if len(grid[name]) > 1)
        yield label or "default", EngineConfig(ranking=ranking, cache_size=0)


def parse_grid(specs: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """``--grid NAME=V1,V2`` overrides on top of ``GRID`` (NAME: a knob, dotted or its unique short name)."""
    grid = dict(GRID)
    for spec in specs:
        name, _, values = spec.partition("=")
        try:
            knob = resolve_knob(name)
            grid[knob] = tuple(parse_value(knob, value) for value in values.split(","))
        except ValueError as error:
            raise SystemExit(f"--grid {spec!r}: {error}") from error
    return grid


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf.tune", description=__doc__.splitlines()[0])
    parser.add_argument("--setting", action="append", required=True, help="NAME=INDEX:GOLD[,GOLD]")
    parser.add_argument("--split", default="tune", choices=("tune", "test", "all"))
    parser.add_argument("--grid", action="append", default=[], help="NAME=V1,V2 (see GRID)")
    parser.add_argument("--reader", default="off", metavar="shipped|off|DIR",
                        help="load this trained reader (then --grid rerank.enabled=false,true compares it)")
    args = parser.parse_args(argv)
    reader_path = reader_folder(args.reader)
    reader = load_reader(reader_path) if reader_path is not None else None
    grid = parse_grid(args.grid)
    settings = [parse_setting(spec) for spec in args.setting]
    rows: list[list[str]] = []
    for setting in settings:
        base = load_engine(setting.index)
        encoder = _MemoEncoder(base.embedder)
        texts = {doc_id: document.text for doc_id, document in base.index.documents.items()}
        questions = questions_of(setting, args.split, texts)
        first: Scores | None = None
        for label, config in configs(grid):
            engine = QueryEngine(base.index, encoder, config, reader=reader)  # type: ignore[arg-type]
            scores = score(engine, questions)
            first = first or scores
            rows.append([setting.name, label, f"{scores.hit5:.3f}", f"{scores.mrr10:.3f}",
                         f"{scores.answer_hit:.3f}", f"{scores.false_abstention:.3f}",
                         f"{scores.abstained_unanswerable:.3f}", f"{scores.answerable}/{scores.unanswerable}",
                         _paired(scores, first)])
            print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    print(format_table(["setting", "config", "hit@5", "MRR@10", "answer hit", "false abst.", "abst. unans.",
                        "questions", "answer hits vs first, paired"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
