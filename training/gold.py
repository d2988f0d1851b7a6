"""The held-out training questions as gold files, so the product's own harnesses score the reader.

``python -m training.gold --out var/training-gold`` writes ``<corpus>-<split>.jsonl`` for the tune
and test splits of every corpus, in the gold format of ``eval/data/README.md`` (offset spans).
These files are derived, never committed: the training files are the source.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.records import load_questions
from training.verify import CORPORA, corpus_texts


def main(argv: list[str] | None = None) -> int:
    """Write the tune and test gold files of every corpus."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("var/training-gold"))
    arguments = parser.parse_args(argv)
    corpora = {name: corpus_texts(name) for name in CORPORA}
    questions = load_questions(corpora)
    arguments.out.mkdir(parents=True, exist_ok=True)
    for corpus in CORPORA:
        for split in ("tune", "test"):
            chosen = [question for question in questions if question.corpus == corpus and question.split == split]
            path = arguments.out / f"{corpus}-{split}.jsonl"
            with path.open("w", encoding="utf-8") as handle:
                for question in chosen:
                    handle.write(json.dumps({
                        "query_id": question.query_id, "question": question.question, "kind": question.kind,
                        "split": split, "evidence": [{"doc_id": span.doc_id, "start": span.start, "end": span.end,
                                                      "text": span.text} for span in question.evidence]},
                        ensure_ascii=False) + "\n")
            print(f"{path}: {len(chosen)} questions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
