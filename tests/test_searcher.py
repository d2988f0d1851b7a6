"""The loaded Index: row lookups by document, sentences of a chunk, dense and sparse search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.load import load_index
from index.publish import publish
from index.searcher import Index
from ingest.embedding import HashingEmbedder
from tests.support.index_content import DIMENSION, make_content


@pytest.fixture
def index(tmp_path: Path) -> Index:
    publish(tmp_path, make_content())
    return load_index(tmp_path)


def test_rows_for_documents_are_sorted_and_ignore_unknown_ids(index: Index) -> None:
    rows = index.rows_for_documents(["gamma", "alpha", "no-such-document"])
    assert rows.dtype == np.int64
    assert rows.tolist() == sorted(rows.tolist())
    assert {index.chunks[row].doc_id for row in rows} == {"alpha", "gamma"}
    assert len(rows) == sum(chunk.doc_id in ("alpha", "gamma") for chunk in index.chunks)
    assert index.rows_for_documents(["no-such-document"]).tolist() == []
    assert index.rows_for_documents([]).tolist() == []


def test_sentence_rows_are_exactly_the_sentences_inside_each_chunk(index: Index) -> None:
    for row, chunk in enumerate(index.chunks):
        expected = [
            number for number, sentence in enumerate(index.sentences)
            if sentence.doc_id == chunk.doc_id
            and chunk.start <= sentence.start and sentence.end <= chunk.end
        ]
        assert list(index.sentence_rows(row)) == expected
        assert expected  # every hand-made chunk holds at least one sentence


def test_dense_search_finds_the_chunk_sharing_the_most_words(index: Index) -> None:
    query = HashingEmbedder(DIMENSION).encode(["rare xylophone auction"])[0]
    hits = index.dense_search(query, 3)
    assert index.chunks[hits[0].row].doc_id == "beta"
    only_alpha = index.dense_search(query, 3, index.rows_for_documents(["alpha"]))
    assert only_alpha and {index.chunks[hit.row].doc_id for hit in only_alpha} == {"alpha"}
    with pytest.raises(ValueError):
        index.dense_search(np.full(DIMENSION, np.nan, dtype=np.float32), 3)


def test_sparse_search_honours_document_filters(index: Index) -> None:
    hits = index.sparse_search("Did the river rise?", 5)
    assert hits and index.chunks[hits[0].row].doc_id == "gamma"
    assert index.sparse_search("river", 5, index.rows_for_documents(["alpha", "beta"])) == []
    assert index.sparse_search("the of and", 5) == []


def test_index_is_read_only_and_names_its_version(index: Index, tmp_path: Path) -> None:
    assert index.index_version == index.version_dir.name
    assert index.root == tmp_path
    with pytest.raises(TypeError):
        index.documents["x"] = index.documents["alpha"]  # type: ignore[index]
    with pytest.raises(ValueError):
        index.chunk_vectors[0, 0] = 1.0
