"""bench.perf.headroom: where a setting's misses are (candidate recall, ranking, answer selection)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.perf.headroom import headroom, main
from bench.perf.tune import parse_setting, questions_of
from service.engine import load_engine

GOLD = Path(__file__).resolve().parents[1] / "eval" / "data" / "gold.jsonl"


def _exact_gold(index_dir: Path, path: Path) -> None:
    """Two questions that are sentences of the corpus, each with its own sentence as evidence, and
    one whose evidence is in a document no question word points at (a miss everywhere)."""
    engine = load_engine(index_dir)
    sentences = [s for s in (engine.index.sentences[row] for row in range(len(engine.index.sentences)))
                 if len(s.text.split()) >= 12][:2]
    rows = [{"query_id": f"x{number}", "question": sentence.text, "kind": "direct", "split": "test",
             "evidence": [{"doc_id": sentence.doc_id, "start": sentence.start, "end": sentence.end,
                           "text": sentence.text}]}
            for number, sentence in enumerate(sentences)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def test_a_question_that_is_a_corpus_sentence_is_found_and_answered_everywhere(
        hashing_seed_index: Path, tmp_path: Path) -> None:
    gold = tmp_path / "exact.jsonl"
    _exact_gold(hashing_seed_index, gold)
    setting = parse_setting(f"exact={hashing_seed_index}:{gold}")
    engine = load_engine(hashing_seed_index)
    texts = {doc_id: document.text for doc_id, document in engine.index.documents.items()}
    result = headroom(engine, questions_of(setting, "test", texts))
    assert result.questions == 2
    assert (result.in_candidates, result.hit5, result.hit20, result.answer_ceiling, result.answer_hit) == (
        1.0, 1.0, 1.0, 1.0, 1.0)


def test_shares_are_ordered_on_the_seed_gold_set(hashing_seed_index: Path) -> None:
    """Each share can only shrink along the path: found by the first stage, kept in the top 20,
    in the top 5; an answer sentence is one of the top passages' sentences."""
    setting = parse_setting(f"seeds={hashing_seed_index}:{GOLD}")
    engine = load_engine(hashing_seed_index)
    texts = {doc_id: document.text for doc_id, document in engine.index.documents.items()}
    result = headroom(engine, questions_of(setting, "test", texts))
    assert result.questions > 20
    assert 0.0 <= result.answer_hit <= result.answer_ceiling
    assert result.hit5 <= result.hit20 <= result.in_candidates <= 1.0
    assert result.hit5 < 1.0  # hashing vectors miss paraphrases: the check is not vacuous


def test_cli_prints_one_row_per_setting(hashing_seed_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--split", "tune", "--setting", f"a={hashing_seed_index}:{GOLD}",
                 "--setting", f"b={hashing_seed_index}:{GOLD}"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("| a ", "| b "))]
    assert len(lines) == 2
