"""Hard negatives: for every training question, what the served ranker puts in front of it, labelled.

Two lists per question, both from the product's own pipeline (``service.engine.QueryEngine``):
- ``passages``: the top 20 passages as served today;
- ``pool``: the sentences the reader would read (``ranking.reader.sentence_pool`` over the
  rescored candidates, before de-crowding, with a wider pool than served), each with its previous
  sentence's range (the reader's context).
A passage or sentence is labelled positive when it overlaps an evidence span of the question or
holds the span's text verbatim (the same sentence in a duplicate or another document): such a
text answers, so it is never taken as a negative. ``python -m training.negatives --corpus news
--index var/idx-news`` writes ``training/data/negatives/<corpus>.jsonl.gz`` (offsets only, no text;
gzip with no timestamp, so the same mining gives the same bytes).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ranking import FirstStage, RankingConfig, RankingState, SentenceRescore, sentence_pool, with_knobs
from service import Query, QueryEngine, load_engine
from training.records import DATA, Span, TrainingQuestion, load_questions
from training.verify import CORPORA, corpus_texts

NEGATIVES = DATA / "negatives"
TOP_K = 20
MINING = with_knobs(RankingConfig(), {"rerank.passages": 20, "rerank.sentences": 24})
"""A wider pool than served, so the reader also learns from what ranks just below the cut."""


def negatives_path(corpus: str) -> Path:
    """The mined file of one corpus."""
    return NEGATIVES / f"{corpus}.jsonl.gz"


def read_negatives(corpus: str) -> Iterator[dict[str, Any]]:
    """The mined records of one corpus (none when it was not mined)."""
    path = negatives_path(corpus)
    if not path.is_file():
        return
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def label_of(doc_id: str, start: int, end: int, text: str, evidence: Iterable[Span]) -> str:
    """``"evidence"`` (overlaps a gold range), ``"same_text"`` (holds a gold text) or ``"negative"``."""
    spans = list(evidence)
    if any(span.doc_id == doc_id and start < span.end and span.start < end for span in spans):
        return "evidence"
    if any(span.text in text or (len(text) > 40 and text in span.text) for span in spans):
        return "same_text"
    return "negative"


def mine(engine: QueryEngine, questions: Iterable[TrainingQuestion]) -> Iterator[dict[str, object]]:
    """One record per question: its served top passages and the reader's sentence pool, labelled."""
    index = engine.index
    for question in questions:
        result = engine.query(Query(question=question.question, top_k=TOP_K), use_cache=False)
        context = engine.context(Query(question=question.question, top_k=TOP_K))
        state = RankingState()
        for stage in (FirstStage(), SentenceRescore()):
            state = stage.run(context, state, MINING)
        pool = sentence_pool(context, state.passages, MINING, index.term_weights(dict.fromkeys(context.terms)))
        sentences = []
        for item in pool:
            sentence = index.sentences[item.row]
            previous = index.sentences[item.row - 1] if item.row > 0 else None
            has_previous = previous is not None and previous.doc_id == sentence.doc_id
            sentences.append({
                "doc_id": sentence.doc_id, "start": sentence.start, "end": sentence.end,
                "context": [previous.start, previous.end] if has_previous and previous is not None else None,
                "relevance": round(item.relevance, 4),
                "label": label_of(sentence.doc_id, sentence.start, sentence.end, sentence.text, question.evidence)})
        yield {
            "query_id": question.query_id, "index_version": result.index_version,
            "passages": [{"rank": passage.rank, "doc_id": passage.doc_id, "start": passage.start, "end": passage.end,
                          "label": label_of(passage.doc_id, passage.start, passage.end, passage.text,
                                            question.evidence)}
                         for passage in result.passages],
            "pool": sentences,
        }


def main(argv: list[str] | None = None) -> int:
    """Mine the hard negatives of one corpus's questions over that corpus's index."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", required=True, choices=CORPORA)
    parser.add_argument("--index", required=True, type=Path)
    arguments = parser.parse_args(argv)
    selected = load_questions({arguments.corpus: corpus_texts(arguments.corpus)})
    engine = load_engine(arguments.index)
    engine = QueryEngine(engine.index, engine.embedder, replace(engine.config, cache_size=0))
    NEGATIVES.mkdir(parents=True, exist_ok=True)
    target = negatives_path(arguments.corpus)
    found = {"questions": 0, "evidence": 0, "same_text": 0}
    with target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed, \
            io.TextIOWrapper(packed, encoding="utf-8") as handle:
        for record in mine(engine, selected):
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            found["questions"] += 1
            for passage in record["passages"]:  # type: ignore[attr-defined]
                if passage["label"] != "negative":
                    found[passage["label"]] += 1
    print(f"{target}: {found['questions']} questions; among their top {TOP_K} passages {found['evidence']} hold "
          f"the written evidence and {found['same_text']} more hold its text elsewhere (labelled positive)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
