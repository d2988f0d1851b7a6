"""Ingest's bounds: a document of too many sentences is refused before cleaning, and embedding
holds one group of fresh vectors at a time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ingest import readers
from ingest.embedding import HashingEmbedder, Vectors, embed_with_cache, text_key
from ingest.readers import DEFAULT_MAX_SENTENCES, read_corpus
from text.sentences import iter_sentences, split_sentences


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_document_over_the_sentence_limit_is_refused_with_a_stable_code(tmp_path: Path) -> None:
    write(tmp_path / "three.txt", "The port opened. Ships came in. Trade resumed.\n")
    write(tmp_path / "four.txt", "The port opened. Ships came in.\nTrade resumed.\nPrices fell.\n")
    corpus = read_corpus([tmp_path], max_sentences=3)
    assert [document.doc_id for document in corpus.documents] == ["three"]
    [rejection] = corpus.rejections
    assert (rejection.path, rejection.code) == ("four.txt", "too_many_sentences")
    assert "\n" not in rejection.reason and "3-sentence limit" in rejection.reason
    assert "split the file" in rejection.reason


def test_every_line_counts_as_a_sentence(tmp_path: Path) -> None:
    write(tmp_path / "lines.md", "alpha\nbeta\n\ngamma\ndelta\n")
    assert [r.code for r in read_corpus([tmp_path], max_sentences=3).rejections] == ["too_many_sentences"]
    assert read_corpus([tmp_path], max_sentences=4).rejections == ()


def test_html_is_counted_on_its_extracted_text(tmp_path: Path) -> None:
    paragraphs = "".join(f"<p>Paragraph number {number} of the story.</p>" for number in range(5))
    write(tmp_path / "page.html", f"<html><body><article>{paragraphs}</article></body></html>")
    assert [r.code for r in read_corpus([tmp_path], max_sentences=4).rejections] == ["too_many_sentences"]
    assert [d.doc_id for d in read_corpus([tmp_path], max_sentences=5).documents] == ["page"]


def test_the_default_limit_admits_its_count_and_refuses_one_more(tmp_path: Path) -> None:
    write(tmp_path / "at_limit.txt", "".join(f"w{number}\n" for number in range(DEFAULT_MAX_SENTENCES)))
    write(tmp_path / "over_limit.txt", "".join(f"w{number}\n" for number in range(DEFAULT_MAX_SENTENCES + 1)))
    corpus = read_corpus([tmp_path])
    assert [document.doc_id for document in corpus.documents] == ["at_limit"]
    assert [(r.path, r.code) for r in corpus.rejections] == [("over_limit.txt", "too_many_sentences")]


def test_the_refusal_comes_before_cleaning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Furniture detection takes ~15 s on a million lines; a refused file must never reach it.
    def no_cleaning(text: str) -> tuple[()]:
        raise AssertionError("a refused document was cleaned")

    monkeypatch.setattr(readers, "detect_furniture", no_cleaning)
    write(tmp_path / "many.txt", "line\n" * 50)
    assert [r.code for r in read_corpus([tmp_path], max_sentences=49).rejections] == ["too_many_sentences"]


def test_a_limit_below_one_sentence_says_what_to_pass(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        read_corpus([tmp_path], max_sentences=0)


def test_lazy_sentences_are_the_listed_sentences() -> None:
    text = "Dr. Smith arrived. He spoke!\n\n  Then left?  \nU.S. officials agreed. Done"
    assert list(iter_sentences(text)) == split_sentences(text)
    assert list(iter_sentences(text, 5, 40)) == split_sentences(text, 5, 40)


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, recording how many texts each ``encode`` call got."""

    def __init__(self) -> None:
        super().__init__(16)
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> Vectors:
        self.calls.append(len(texts))
        return super().encode(texts, batch_size=batch_size, progress=progress)


def test_embedding_in_groups_gives_the_same_vectors_and_counts() -> None:
    # 20 texts with 10 distinct ones, plus one whose vector is cached: 10 are encoded, 3 at a time.
    texts = [f"text number {number % 5} about {number % 2}" for number in range(20)] + ["cached text"]
    reference = HashingEmbedder(16)
    cache = {text_key("cached text"): reference.encode(["cached text"])[0]}
    embedder = CountingEmbedder()
    vectors, embedded = embed_with_cache(embedder, texts, cache, group_size=3)
    assert embedded == 10
    assert embedder.calls == [3, 3, 3, 1]
    assert vectors.dtype == np.float32 and vectors.shape == (21, 16)
    np.testing.assert_array_equal(vectors, reference.encode(texts))
