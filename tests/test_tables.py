"""Column tables of a loaded index (``index.tables``): same records, same answers, no per-record objects."""

from __future__ import annotations

import gc
import json
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from bench.faults.fuzz import write_resigned_copy
from eval.gold import load_gold
from index.build import ingest, segment_corpus
from index.errors import IndexCorruptedError
from index.layout import current_version
from index.load import load_index
from index.manifest import (
    chunks_from_jsonl,
    chunks_to_jsonl,
    documents_from_jsonl,
    sentences_from_jsonl,
    sentences_to_jsonl,
)
from index.table_lines import read_chunk_table, read_sentence_table
from index.tables import ChunkTable, DocumentTexts, SentenceTable
from index.vector_file import VectorFile
from ingest.embedding import HashingEmbedder
from ingest.readers import read_corpus
from ingest.records import Chunk, ChunkingParams, Sentence
from ranking import RankingConfig, RetrievalConfig
from service.engine import EngineConfig, QueryEngine
from service.records import Query
from tests.support.paths import FIXTURES

# Recorded with the code before the tables (commit 647f337) by ingesting the seed corpus with
# HashingEmbedder(384) and asking every gold question in every mode; regenerate only when ingest
# or ranking changes on purpose.
RECORDED_RESULTS = FIXTURES / "seed_query_results_hashing.json"
# Scores are printed to six decimals; another CPU's vector path may round the last digit differently.
SCORE_TOLERANCE = 2e-6


def _version_dir(index_dir: Path) -> Path:
    return index_dir / "versions" / str(current_version(index_dir))


def _strict_records(version_dir: Path) -> tuple[tuple[Chunk, ...], tuple[Sentence, ...]]:
    """The records as the per-line JSONL readers give them (the tuples the index held before)."""
    documents = documents_from_jsonl((version_dir / "documents.jsonl").read_bytes(), version_dir)
    text_of = {document.doc_id: document.text for document in documents}
    chunks = chunks_from_jsonl((version_dir / "chunks.jsonl").read_bytes(), version_dir, text_of)
    sentences = sentences_from_jsonl((version_dir / "sentences.jsonl").read_bytes(), version_dir, text_of)
    return chunks, sentences


def test_tables_give_every_field_of_the_records_the_jsonl_holds(hashing_seed_index: Path) -> None:
    chunks, sentences = _strict_records(_version_dir(hashing_seed_index))
    index = load_index(hashing_seed_index)
    assert len(index.chunks) == len(chunks) > 0
    assert len(index.sentences) == len(sentences) > len(chunks)
    assert tuple(index.chunks) == chunks
    assert tuple(index.sentences) == sentences
    assert index.chunks == chunks and index.sentences == sentences
    assert index.chunks[-1] == chunks[-1] and index.chunks[1:4] == chunks[1:4]
    assert all(index.chunks.doc_id(row) == chunk.doc_id for row, chunk in enumerate(chunks))
    with pytest.raises(IndexError):
        index.chunks[len(chunks)]


def test_sentence_rows_are_the_sentences_inside_each_chunk(hashing_seed_index: Path) -> None:
    chunks, sentences = _strict_records(_version_dir(hashing_seed_index))
    index = load_index(hashing_seed_index)
    for row, chunk in enumerate(chunks):
        inside = [number for number, sentence in enumerate(sentences)
                  if sentence.doc_id == chunk.doc_id and chunk.start <= sentence.start
                  and sentence.end <= chunk.end]
        assert list(index.sentence_rows(row)) == inside


def test_chunk_counts_and_document_rows_match_the_records(hashing_seed_index: Path) -> None:
    chunks, _ = _strict_records(_version_dir(hashing_seed_index))
    index = load_index(hashing_seed_index)
    for doc_id in index.documents:
        rows = [row for row, chunk in enumerate(chunks) if chunk.doc_id == doc_id]
        assert index.chunk_counts()[doc_id] == len(rows)
        assert index.rows_for_documents([doc_id]).tolist() == rows
    assert index.rows_for_documents(["no-such-document"]).tolist() == []


def test_queries_answer_exactly_as_before_the_tables(hashing_seed_index: Path) -> None:
    recorded = json.loads(RECORDED_RESULTS.read_text(encoding="utf-8"))
    # Recorded with the retrieval defaults of the day (second stage off): what is compared is the
    # table layout's effect, not later re-tuning.
    config = RankingConfig(retrieval=RetrievalConfig(rescore=False, sentence_weight=0.5))
    engine = QueryEngine(load_index(hashing_seed_index), HashingEmbedder(384), EngineConfig(ranking=config))
    questions = {item.question for item in load_gold()}
    assert {entry["question"] for entry in recorded} == questions
    for entry in recorded:
        result = engine.query(Query(question=entry["question"], mode=entry["mode"]), use_cache=False)
        answer = result.answer
        # Rankings, answers and citations exactly; scores within SCORE_TOLERANCE, because the last
        # printed digit depends on the CPU's vector instruction path (docs/architecture.md,
        # "What holds across machines").
        assert {
            "question": entry["question"], "mode": entry["mode"], "index_version": result.index_version,
            "passages": [[p.chunk_id, p.start, p.end] for p in result.passages],
            "answer": None if answer is None else answer.text,
            "citations": None if answer is None else [[c.doc_id, c.start, c.end] for c in answer.citations],
            "abstention": result.abstention_reason,
        } == {**entry, "passages": [passage[:3] for passage in entry["passages"]]}
        assert [p.score for p in result.passages] == pytest.approx(
            [passage[3] for passage in entry["passages"]], abs=SCORE_TOLERANCE)


def test_a_loaded_index_holds_no_object_per_chunk_or_sentence(hashing_seed_index: Path) -> None:
    def records_alive() -> int:
        # isinstance on every live object touches deprecated module attributes other tests imported
        # (torch.distributed.reduce_op warns on access): not this test's business.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sum(isinstance(value, Chunk | Sentence) for value in gc.get_objects())

    load_index(hashing_seed_index)  # imports and caches warmed, so the count below is the index's own
    # Counted first: the sweep's isinstance checks can make lazily built objects of other tests
    # (pydantic models left half-built behind a mock serializer) finish building. Collected
    # first, so records of earlier tests that are already garbage are not counted as alive.
    gc.collect()
    records_before = records_alive()
    gc.collect()
    before = len(gc.get_objects())
    index = load_index(hashing_seed_index)
    gc.collect()
    created = len(gc.get_objects()) - before
    records = len(index.chunks) + len(index.sentences)
    # Per-record objects would add at least one tracked object per chunk and per sentence.
    assert created < records / 2, f"{created} objects for {records} records"
    # Loading built no Chunk or Sentence (earlier tests' records may still be freed meanwhile).
    assert records_alive() <= records_before
    assert isinstance(index.chunks, ChunkTable) and isinstance(index.sentences, SentenceTable)
    for column in (index.chunks.doc_rows, index.chunks.starts, index.sentences.ends):
        assert isinstance(column, np.ndarray) and column.dtype.kind == "i"
    # The vectors stay in their files, read row by row.
    version_dir = _version_dir(hashing_seed_index)
    for name, vectors in (("chunk_vectors.npy", index.chunk_vectors), ("sentence_vectors.npy", index.sentence_vectors)):
        assert isinstance(vectors, VectorFile)
        expected = np.load(version_dir / name)
        assert np.array_equal(np.asarray(vectors), expected)
        assert np.array_equal(vectors[3:9], expected[3:9]) and np.array_equal(vectors[5], expected[5])
        assert np.array_equal(vectors[[7, 2, 3, 4, 0]], expected[[7, 2, 3, 4, 0]])
        query = expected[1]
        assert np.array_equal(vectors @ query, expected @ query)
        assert np.array_equal(np.stack(list(vectors)), expected)


def test_a_non_canonical_but_valid_record_file_loads_the_same_records(hashing_seed_index: Path, tmp_path: Path) -> None:
    version_dir = _version_dir(hashing_seed_index)
    chunks, sentences = _strict_records(version_dir)
    spaced = (version_dir / "sentences.jsonl").read_bytes().replace(b'":', b'": ')
    write_resigned_copy(tmp_path / "copy", version_dir, "sentences.jsonl", spaced)
    index = load_index(tmp_path / "copy")
    assert tuple(index.sentences) == sentences and tuple(index.chunks) == chunks


@pytest.mark.parametrize(("name", "damage", "message"), [
    # an end offset past its document's text
    ("chunks.jsonl", lambda data: re.sub(rb'"end":\d+', b'"end":99999999', data, count=1), "outside"),
    ("sentences.jsonl", lambda data: re.sub(rb'"start":\d+', b'"start":99999999', data, count=1), "outside"),
    ("sentences.jsonl", lambda data: data.replace(b'"doc_id":"', b'"doc_id":"x', 1), "unknown doc_id"),
    # a negative offset is not canonical and the strict reader refuses it
    ("chunks.jsonl", lambda data: re.sub(rb'"start":\d+', b'"start":-1', data, count=1), "non-negative"),
    # a sentence moved out of its document's order
    ("sentences.jsonl", lambda data: b"".join(reversed(data.splitlines(keepends=True))), "sorted"),
])
def test_resigned_record_files_that_break_the_records_are_refused(
    hashing_seed_index: Path, tmp_path: Path, name: str, damage: object, message: str,
) -> None:
    version_dir = _version_dir(hashing_seed_index)
    data = (version_dir / name).read_bytes()
    assert callable(damage)
    damaged = damage(data)
    assert damaged != data
    write_resigned_copy(tmp_path / "copy", version_dir, name, damaged)
    with pytest.raises(IndexCorruptedError, match=message):
        load_index(tmp_path / "copy")


def test_a_corrupted_vector_file_still_refuses_the_load(hashing_seed_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    version_dir = _version_dir(hashing_seed_index)
    write_resigned_copy(copy, version_dir, "chunks.jsonl", (version_dir / "chunks.jsonl").read_bytes())
    target = _version_dir(copy) / "sentence_vectors.npy"
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptedError, match=re.escape("sentence_vectors.npy does not match its checksum")):
        load_index(copy)


def _documents() -> DocumentTexts:
    return DocumentTexts(["a", 'q"uote', "é-doc"], ["x" * 50, "y" * 50, "z" * 50])


def test_the_column_reader_gives_what_the_strict_reader_gives() -> None:
    documents = _documents()
    chunks = (
        Chunk(chunk_id="a#0000", doc_id="a", ordinal=0, start=0, end=10, text="x" * 10, token_count=3,
              sentence_start=0, sentence_end=2),
        Chunk(chunk_id="a#12345", doc_id="a", ordinal=12345, start=5, end=50, text="x" * 45, token_count=9,
              sentence_start=1, sentence_end=3),
        Chunk(chunk_id="custom id", doc_id="é-doc", ordinal=7, start=0, end=0, text="", token_count=0,
              sentence_start=0, sentence_end=0),
        Chunk(chunk_id="é-doc#0008", doc_id="é-doc", ordinal=8, start=1, end=2, text="z", token_count=1,
              sentence_start=0, sentence_end=1),
        Chunk(chunk_id="é-doc#8", doc_id="é-doc", ordinal=8, start=1, end=2, text="z", token_count=1,
              sentence_start=0, sentence_end=1),
    )
    data = chunks_to_jsonl(chunks)
    assert read_chunk_table(data, Path("chunks.jsonl"), documents) == chunks
    sentences = (Sentence(doc_id="a", start=0, end=5, text="x" * 5),
                 Sentence(doc_id="é-doc", start=3, end=9, text="z" * 6))
    assert read_sentence_table(sentences_to_jsonl(sentences), Path("sentences.jsonl"), documents) == sentences
    assert read_sentence_table(b"", Path("sentences.jsonl"), documents) == ()
    # An escaped id is read by the strict reader, with the same result.
    escaped = (Sentence(doc_id='q"uote', start=1, end=4, text="y" * 3),)
    assert b"\\" in sentences_to_jsonl(escaped)
    assert read_sentence_table(sentences_to_jsonl(escaped), Path("sentences.jsonl"), documents) == escaped


@pytest.mark.parametrize(("data", "message"), [
    (b'{"doc_id":"a","end":05,"start":0}\n', r"sentences\.jsonl:1: not valid JSON"),
    (b'{"doc_id":"a","end":5,"start":0}\n{"doc_id":"a","end":5,"start":0}', "newline"),
    (b'{"doc_id":"b","end":5,"start":0}\n', "unknown doc_id"),
    (b'{"doc_id":"a","end":51,"start":0}\n', "outside"),
    (b'{"doc_id":"a","end":5,"start":0,"extra":1}\n', "unknown fields"),
])
def test_the_column_reader_refuses_what_the_strict_reader_refuses(data: bytes, message: str) -> None:
    with pytest.raises(IndexCorruptedError, match=message):
        read_sentence_table(data, Path("sentences.jsonl"), _documents())


@pytest.mark.parametrize("shards", [None, 2])
def test_an_html_index_loads_the_records_it_was_built_from(tmp_path: Path, shards: int | None) -> None:
    """Heading paths, search texts, headings and code blocks survive the column tables (and the shard merge)."""
    site = FIXTURES / "sphinx_site"
    segmented = segment_corpus(read_corpus([site]).documents, ChunkingParams())
    ingest([site], tmp_path, HashingEmbedder(64), shards=shards)
    index = load_index(tmp_path)
    assert any(chunk.context for chunk in segmented.chunks)
    assert any(document.headings for document in segmented.documents)
    assert any(document.code_blocks for document in segmented.documents)
    def in_order(chunks: Iterable[Chunk]) -> list[Chunk]:
        return sorted(chunks, key=lambda chunk: (chunk.doc_id, chunk.ordinal))

    assert in_order(index.chunks) == in_order(segmented.chunks)
    assert [chunk.search_text for chunk in in_order(index.chunks)] == [
        chunk.search_text for chunk in in_order(segmented.chunks)]
    assert all(index.chunks.context(row) == chunk.context for row, chunk in enumerate(index.chunks))
    assert sorted(index.sentences, key=lambda sentence: (sentence.doc_id, sentence.start)) == sorted(
        segmented.sentences, key=lambda sentence: (sentence.doc_id, sentence.start))
    assert dict(index.documents) == {document.doc_id: document for document in segmented.documents}
