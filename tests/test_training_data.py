"""The written training data: every evidence span verified, split by document, held-out data absent.

The news articles are read from ``../shared`` (skipped when absent); the docs corpora from
``var/corpora`` (``make training-corpora``; their records are skipped when absent, and said so).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.support.paths import NEWS_DISTRACTORS, REPO
from training.documents import assign_splits, split_of
from training.records import CLAIM_FILES, QUESTION_FILES, load_claims, load_questions
from training.verify import corpus_root, corpus_texts, shares_content_word

pytestmark = pytest.mark.skipif(not NEWS_DISTRACTORS.is_dir(), reason=f"{NEWS_DISTRACTORS} is absent")


def _records(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _corpora() -> dict[str, dict[str, str]]:
    present = {"news": dict(corpus_texts("news"))}
    for name in ("flask", "git"):
        if corpus_root(name).is_dir():
            present[name] = dict(corpus_texts(name))
    return present


def test_every_question_and_claim_places_its_evidence_in_one_training_split() -> None:
    corpora = _corpora()
    # load_* place every quote (exactly, or with whitespace runs folded) and raise on any record
    # whose documents are held out or in two splits.
    questions = load_questions(corpora)
    claims = load_claims(corpora)
    for record in (*questions, *claims):
        spans = record.evidence if isinstance(record.evidence, tuple) else (record.evidence,)
        for span in spans:
            assert corpora[record.corpus][span.doc_id][span.start:span.end] == span.text
    assert {question.split for question in questions} == {"train", "tune", "test"}


def test_the_sets_have_the_size_and_mix_the_issue_asks_for() -> None:
    questions = _records(QUESTION_FILES)
    kinds = Counter(str(record["kind"]) for record in questions)
    assert len(questions) >= 3000
    assert kinds["paraphrase"] / len(questions) >= 0.40
    assert kinds["unanswerable"] / len(questions) >= 0.10
    news_articles = {str(span["doc_id"]) for record in questions if record["corpus"] == "news"  # type: ignore[union-attr]
                     for span in record["evidence"]}  # type: ignore[union-attr]
    news_articles |= {str(doc) for record in questions if record["corpus"] == "news"
                      for doc in record.get("topic_doc_ids") or []}  # type: ignore[union-attr]
    assert len(news_articles) >= 1000
    assert {record["corpus"] for record in questions} == {"news", "flask", "git"}
    claims = _records(CLAIM_FILES)
    assert len(claims) >= 5000
    assert set(Counter(str(record["label"]) for record in claims)) == {"supported", "contradicted", "not_enough_info"}


def test_paraphrases_share_no_content_word_with_their_evidence() -> None:
    failed = [record["query_id"] for record in _records(QUESTION_FILES) if record["kind"] == "paraphrase"
              and shares_content_word(str(record["question"]),
                                      [str(span["text"]) for span in record["evidence"]])]  # type: ignore[union-attr]
    assert failed == []


def test_no_seed_article_and_no_gold_document_is_in_the_training_data() -> None:
    seeds = [path.read_text(encoding="utf-8") for path in sorted((REPO / "data" / "corpus").glob("*"))]
    seed_lines = {line.strip() for text in seeds for line in text.splitlines() if len(line.strip()) > 60}
    text = "\n".join(path.read_text(encoding="utf-8") for folder in (QUESTION_FILES, CLAIM_FILES)
                     for path in sorted(folder.glob("*.jsonl")))
    assert not any(line in text for line in seed_lines)
    gold = [json.loads(line) for name in ("gold-news.jsonl", "gold-flask.jsonl")
            for line in (REPO / "eval" / "data" / name).read_text(encoding="utf-8").splitlines()]
    gold_documents = {span["doc_id"] for record in gold for span in record["evidence"]}
    used = {str(span["doc_id"]) for record in (*_records(QUESTION_FILES), *_records(CLAIM_FILES))
            for span in record["evidence"]}  # type: ignore[union-attr]
    assert not used & gold_documents


def test_the_split_rule_is_fixed_and_keeps_duplicates_together() -> None:
    assert split_of("news", "business_001") == split_of("news", "business_001")
    splits = assign_splits("news", {"a": "Same  text.", "b": "Same text.", "c": "Other."})
    assert splits["a"] == splits["b"] == split_of("news", "a")
    shares = Counter(split_of("news", f"doc-{number}") for number in range(2000))
    assert 0.65 < shares["train"] / 2000 < 0.75
