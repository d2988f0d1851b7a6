"""Chunks are exact slices of their document, token-bounded, sentence-aligned and overlapping."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from index.build import segment_corpus
from ingest.chunking import kept_segments, split_document, token_counter
from ingest.readers import read_corpus
from ingest.records import ChunkingParams, Document, Region

PARAMS = ChunkingParams()


def doc(text: str, excluded: tuple[Region, ...] = ()) -> Document:
    return Document(doc_id="d", source="d.txt", text=text, title="t", content_hash="h", excluded=excluded)


def test_every_chunk_and_sentence_is_an_exact_slice_over_the_seed_corpus(seed_corpus: Path) -> None:
    corpus = read_corpus([seed_corpus])
    assert len(corpus.documents) == 5
    segmented = segment_corpus(corpus.documents, PARAMS)
    texts = {document.doc_id: document.text for document in segmented.documents}
    count = token_counter(PARAMS.encoding)
    assert segmented.chunks
    for chunk in segmented.chunks:
        assert texts[chunk.doc_id][chunk.start : chunk.end] == chunk.text
        assert chunk.token_count == count(chunk.text) <= PARAMS.max_tokens
    for sentence in segmented.sentences:
        assert texts[sentence.doc_id][sentence.start : sentence.end] == sentence.text


def test_chunks_never_include_excluded_text(seed_corpus: Path) -> None:
    segmented = segment_corpus(read_corpus([seed_corpus]).documents, PARAMS)
    excluded = {document.doc_id: document.excluded for document in segmented.documents}
    for chunk in segmented.chunks:
        for region in excluded[chunk.doc_id]:
            assert chunk.end <= region.start or chunk.start >= region.end, (chunk.chunk_id, region)


def test_long_text_is_packed_with_sentence_overlap() -> None:
    text = " ".join(f"Sentence number {i} talks about the harbour and the ships." for i in range(60))
    split = split_document(doc(text), ChunkingParams(max_tokens=60, overlap_tokens=15))
    assert len(split.chunks) > 3
    for previous, current in zip(split.chunks, split.chunks[1:], strict=False):
        assert current.start < previous.end, "consecutive chunks overlap"
        assert current.sentence_start < previous.sentence_end
        assert current.start > previous.start, "every chunk moves forward"
    assert split.chunks[-1].end == len(text)


def test_an_over_long_sentence_is_cut_to_the_token_limit() -> None:
    text = "word " * 500 + "end."
    split = split_document(doc(text), ChunkingParams(max_tokens=50, overlap_tokens=0, min_chunk_tokens=1))
    count = token_counter(PARAMS.encoding)
    assert all(count(chunk.text) <= 50 for chunk in split.chunks)
    assert split.chunks[0].start == 0 and split.chunks[-1].end == len(text)


def test_chunks_do_not_span_an_excluded_region() -> None:
    text = "First paragraph is here and long enough to matter.\nPhoto credit line\nSecond paragraph is here too."
    region = Region(start=51, end=68, reason="furniture:credit")
    split = split_document(doc(text, (region,)), ChunkingParams(min_chunk_tokens=1))
    assert [chunk.text for chunk in split.chunks] == [
        "First paragraph is here and long enough to matter.", "Second paragraph is here too."]
    assert kept_segments(doc(text, (region,))) == [(0, 51), (68, len(text))]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc xyz.?!\n\r\"'é😀")), max_size=600),
       st.integers(min_value=8, max_value=40), st.integers(min_value=0, max_value=20))
def test_offsets_invariant_on_arbitrary_text(text: str, max_tokens: int, overlap: int) -> None:
    split = split_document(doc(text), ChunkingParams(max_tokens=max_tokens, overlap_tokens=overlap,
                                                     min_chunk_tokens=1))
    for chunk in split.chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.token_count <= max_tokens
