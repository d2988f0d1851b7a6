"""The news-distractor gold set against its corpus, and the tune/test split of every gold file."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from eval.gold import SPLITS, GoldQuestion, default_gold_path, load_gold, news_gold_path, verify_gold
from eval.splits import assign_splits, select_split, split_key
from tests.support.paths import NEWS_DISTRACTORS

GOLD_FILES = (default_gold_path(), news_gold_path())
SECTIONS = ("business", "entertainment", "sport", "tech")


@pytest.fixture(scope="module")
def news() -> tuple[GoldQuestion, ...]:
    return load_gold(news_gold_path())


def _read(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


# ---- the news set --------------------------------------------------------------------------------


def test_news_set_size_and_spread(news: tuple[GoldQuestion, ...]) -> None:
    kinds: Counter[str] = Counter(question.kind for question in news)
    assert sum(question.answerable for question in news) >= 44
    assert kinds["unanswerable"] >= 8
    assert kinds["direct"] >= 20 and kinds["paraphrase"] >= 14 and kinds["multi_doc"] >= 3, kinds
    documents = Counter(doc_id for question in news for doc_id in question.doc_ids)
    assert len(documents) >= 40
    assert {doc_id.split("_")[0] for doc_id in documents} == set(SECTIONS)
    single = Counter(question.doc_ids[0] for question in news if question.kind in ("direct", "paraphrase"))
    assert max(single.values()) <= 2, single.most_common(3)


def test_news_spans_are_whole_lines_free_and_not_headlines(news: tuple[GoldQuestion, ...]) -> None:
    for question in news:
        assert question.anchors == (), question.query_id
        for span in question.evidence:
            assert "\n" not in span.text and span.text == span.text.strip(), question.query_id
            assert span.doc_id != "sport_199", "sport_199.txt is Windows-1252, not UTF-8"


@pytest.mark.skipif(not NEWS_DISTRACTORS.is_dir(), reason=f"news distractors not found at {NEWS_DISTRACTORS} "
                    "(set GROUNDED_NEWS_DISTRACTORS to the folder)")
def test_every_news_span_matches_the_distractor_text(news: tuple[GoldQuestion, ...]) -> None:
    cited = {doc_id for question in news for doc_id in question.doc_ids}
    texts = {doc_id: _read(NEWS_DISTRACTORS / f"{doc_id}.txt") for doc_id in cited}
    assert verify_gold(news, texts) == []
    for question in news:
        for span in question.evidence:
            document = texts[span.doc_id]
            assert document[span.start : span.end] == span.text
            assert span.start > document.index("\n"), f"{question.query_id}: evidence in the headline"
    # The corpus holds exact duplicate articles; evidence never sits in one of them.
    digests = Counter(hashlib.sha256(path.read_bytes()).hexdigest() for path in NEWS_DISTRACTORS.glob("*.txt"))
    duplicated = [doc_id for doc_id in cited
                  if digests[hashlib.sha256((NEWS_DISTRACTORS / f"{doc_id}.txt").read_bytes()).hexdigest()] > 1]
    assert duplicated == []


# ---- splits -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda path: path.name)
def test_every_gold_file_follows_the_split_rule(path: Path) -> None:
    questions = load_gold(path)
    expected = assign_splits(questions)
    assert [(q.query_id, q.split) for q in questions] == [(q.query_id, expected[q.query_id]) for q in questions]
    for kind in {question.kind for question in questions}:
        counts = Counter(question.split for question in questions if question.kind == kind)
        assert 0 <= counts["tune"] - counts["test"] <= 1, (path.name, kind, counts)


def test_query_ids_are_unique_across_gold_files() -> None:
    ids = [question.query_id for path in GOLD_FILES for question in load_gold(path)]
    assert len(ids) == len(set(ids))


def test_assign_splits_alternates_within_each_kind_in_hash_order() -> None:
    questions = [GoldQuestion(query_id=f"x{index}", question="?", kind="unanswerable") for index in range(5)]
    questions.append(GoldQuestion(query_id="y", question="?", kind="paraphrase", anchors=()))
    splits = assign_splits(questions)
    ordered = sorted((f"x{index}" for index in range(5)), key=split_key)
    assert [splits[query_id] for query_id in ordered] == ["tune", "test", "tune", "test", "tune"]
    assert splits["y"] == "tune"
    assert split_key("x0") == hashlib.sha256(b"x0").hexdigest()
    assert set(splits.values()) <= set(SPLITS)


def test_select_split_uses_the_stored_split() -> None:
    tuned = GoldQuestion(query_id="a", question="?", kind="unanswerable", split="tune")
    held_out = GoldQuestion(query_id="b", question="?", kind="unanswerable", split="test")
    unsplit = GoldQuestion(query_id="c", question="?", kind="unanswerable")
    assert select_split([tuned, held_out, unsplit], "test") == (held_out,)
    assert select_split([tuned, held_out, unsplit], "tune") == (tuned,)
