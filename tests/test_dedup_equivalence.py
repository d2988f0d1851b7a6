"""Near-duplicate detection with min-hash candidates drops exactly what comparing every pair drops."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.common.corpus import write_corpus
from ingest.chunking import split_document, token_counter
from ingest.dedup import (
    MINHASH_ROWS,
    MISSED_PAIR_PROBABILITY,
    NEAR_DUPLICATE_JACCARD,
    DroppedChunk,
    _shingles,
    drop_near_duplicate_chunks,
    minhash_bands,
)
from ingest.readers import read_corpus
from ingest.records import Chunk, ChunkingParams, Document

PARAMS = ChunkingParams()


def compare_every_pair(chunks: Sequence[Chunk], threshold: float = NEAR_DUPLICATE_JACCARD
                       ) -> tuple[tuple[Chunk, ...], tuple[DroppedChunk, ...]]:
    """The definition, as the quadratic version computed it: each chunk against every kept chunk
    of another document, Jaccard as ``overlap / union``; the most similar wins, the earliest on a tie."""
    kept: list[tuple[Chunk, frozenset[tuple[str, ...]]]] = []
    dropped: list[DroppedChunk] = []
    for chunk in chunks:
        shingles = _shingles(chunk.text)
        best: Chunk | None = None
        best_similarity = 0.0
        for other, other_shingles in kept:
            if other.doc_id == chunk.doc_id:
                continue
            if not shingles & other_shingles:
                continue
            similarity = len(shingles & other_shingles) / len(shingles | other_shingles)
            if similarity > best_similarity:
                best, best_similarity = other, similarity
        if best is not None and best_similarity >= threshold:
            dropped.append(DroppedChunk(chunk_id=chunk.chunk_id, duplicate_of=best.chunk_id,
                                        similarity=round(best_similarity, 4)))
        else:
            kept.append((chunk, shingles))
    return tuple(chunk for chunk, _ in kept), tuple(dropped)


def chunk(doc_id: str, ordinal: int, text: str) -> Chunk:
    return Chunk(chunk_id=f"{doc_id}#{ordinal:04d}", doc_id=doc_id, ordinal=ordinal, start=0,
                 end=len(text), text=text, token_count=len(text.split()), sentence_start=0, sentence_end=1)


def perturbed(document: Document, doc_id: str, rate: float, rng: random.Random) -> Document:
    """A copy of ``document`` with about ``rate`` of its words changed (a re-edited wire story)."""
    lines = [" ".join(f"{word}x" if word and rng.random() < rate else word for word in line.split(" "))
             for line in document.text.split("\n")]
    return Document(doc_id=doc_id, source=f"{doc_id}.txt", text="\n".join(lines), title=doc_id,
                    content_hash=doc_id)


def chunks_with_copies(documents: Sequence[Document], seed: int) -> list[Chunk]:
    """The chunks of ``documents`` followed by those of edited copies at rates around the threshold."""
    rng = random.Random(seed)
    rates = (0.0, 0.01, 0.02, 0.04, 0.06, 0.1)
    copies = [perturbed(document, f"zz_copy_{number:03d}", rates[number % len(rates)], rng)
              for number, document in enumerate(documents)]
    count = token_counter(PARAMS.encoding)
    return [piece for document in (*documents, *copies)
            for piece in split_document(document, PARAMS, count).chunks]


def test_the_seed_corpus_with_edited_copies_gives_what_comparing_every_pair_gives(seed_corpus: Path) -> None:
    chunks = chunks_with_copies(read_corpus([seed_corpus]).documents, seed=3)
    kept, dropped = drop_near_duplicate_chunks(chunks)
    assert (kept, dropped) == compare_every_pair(chunks)
    # The comparison means something: copies are dropped, and some edited copies are kept.
    assert dropped and all(item.chunk_id.startswith("zz_copy_") for item in dropped)
    assert any(piece.doc_id.startswith("zz_copy_") for piece in kept)


def test_a_generated_corpus_with_edited_copies_gives_what_comparing_every_pair_gives(tmp_path: Path) -> None:
    write_corpus(tmp_path / "corpus", 40, seed=20240601)
    documents = read_corpus([tmp_path / "corpus"]).documents
    chunks = chunks_with_copies(documents[:20], seed=5)
    chunks = [piece for document in documents[20:]
              for piece in split_document(document, PARAMS).chunks] + chunks
    result = drop_near_duplicate_chunks(chunks)
    assert result == compare_every_pair(chunks)
    assert result[1]


def test_a_wire_story_copied_by_a_hundred_outlets_is_indexed_once() -> None:
    # Every shingle of the story is in 100 chunks: a frequency cut-off on shingles would miss these.
    story = ("the central bank raised its main interest rate by half a point on tuesday citing prices "
             "that rose faster than expected in the spring and a labour market that stayed tight")
    chunks = [chunk(f"outlet{number:03d}", 0, f"{story} reported outlet{number:03d}") for number in range(100)]
    kept, dropped = drop_near_duplicate_chunks(chunks)
    assert [piece.chunk_id for piece in kept] == ["outlet000#0000"]
    assert {item.duplicate_of for item in dropped} == {"outlet000#0000"}
    assert all(item.similarity >= NEAR_DUPLICATE_JACCARD for item in dropped)


_WORDS = st.sampled_from(["a", "b", "c", "d", "e"])
_CHUNKS = st.lists(st.tuples(st.sampled_from(["p", "q", "r", "s"]), st.lists(_WORDS, max_size=10)),
                   max_size=24)


@settings(max_examples=300, deadline=None)
@given(_CHUNKS, st.sampled_from([0.5, 0.6, 0.75, 0.8, 0.9, 1.0, 1.5]))
def test_small_vocabularies_give_what_comparing_every_pair_gives(
        items: list[tuple[str, list[str]]], threshold: float) -> None:
    # Five words make heavy overlap, ties and one-shingle chunks: the cases candidate generation must not miss.
    chunks = [chunk(doc_id, ordinal, " ".join(words)) for ordinal, (doc_id, words) in enumerate(items)]
    assert drop_near_duplicate_chunks(chunks, threshold) == compare_every_pair(chunks, threshold)


def test_a_threshold_too_low_for_min_hash_candidates_is_refused_naming_the_least() -> None:
    with pytest.raises(ValueError, match=r"at least 0\.5"):
        drop_near_duplicate_chunks([chunk("a", 0, "one two three four")], 0.3)


def test_the_default_threshold_uses_32_bands_missing_a_pair_with_under_5e_8() -> None:
    bands = minhash_bands(NEAR_DUPLICATE_JACCARD)
    assert bands == 32
    assert (1 - NEAR_DUPLICATE_JACCARD**MINHASH_ROWS) ** bands <= MISSED_PAIR_PROBABILITY
