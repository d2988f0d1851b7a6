"""Document texts read on demand (``index.document_lines``): same documents, damage refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.faults.fuzz import write_resigned_copy
from index.document_lines import DocumentLines, DocumentLineTexts, read_document_lines
from index.errors import IndexCorruptedError
from index.layout import current_version
from index.load import load_index
from index.manifest import documents_from_jsonl
from ingest.records import Document


def _documents_file(index_dir: Path) -> Path:
    return index_dir / "versions" / str(current_version(index_dir)) / "documents.jsonl"


def test_a_loaded_index_reads_the_documents_the_file_holds(hashing_seed_index: Path) -> None:
    path = _documents_file(hashing_seed_index)
    expected = documents_from_jsonl(path.read_bytes(), path)
    index = load_index(hashing_seed_index)
    assert isinstance(index.documents, DocumentLines)
    assert list(index.documents) == [document.doc_id for document in expected]
    assert list(index.documents.values()) == list(expected)
    assert index.documents.get("no such document") is None and "no such document" not in index.documents
    texts = index.chunks.document_texts
    assert [texts.texts[row] for row in range(len(texts.texts))] == [document.text for document in expected]
    assert texts.lengths().tolist() == [len(document.text) for document in expected]
    assert index.document_summaries() == sorted((document.doc_id, document.title, document.source)
                                                for document in expected)
    for chunk in index.chunks:
        assert chunk.text == index.documents[chunk.doc_id].text[chunk.start : chunk.end]


def test_a_loaded_index_holds_no_document_text(hashing_seed_index: Path) -> None:
    index = load_index(hashing_seed_index)
    assert isinstance(index.documents, DocumentLines)
    # Nothing was read back after the load's check, and the tables slice texts read on demand.
    assert index.documents.document.cache_info().currsize == 0
    assert isinstance(index.chunks.document_texts.texts, DocumentLineTexts)
    index.chunks[0].text  # noqa: B018 -- reads one document
    assert index.documents.document.cache_info().currsize == 1


def test_a_damaged_documents_file_is_refused_at_load_with_its_line(hashing_seed_index: Path, tmp_path: Path) -> None:
    path = _documents_file(hashing_seed_index)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2][:-5]
    version_dir = path.parent
    write_resigned_copy(tmp_path / "copy", version_dir, "documents.jsonl", b"\n".join(lines))
    with pytest.raises(IndexCorruptedError, match=r"documents\.jsonl:3: not valid JSON"):
        load_index(tmp_path / "copy")


def test_a_documents_file_changed_after_the_load_is_reported_when_read(
        hashing_seed_index: Path, tmp_path: Path) -> None:
    path = _documents_file(hashing_seed_index)
    write_resigned_copy(tmp_path / "copy", path.parent, "documents.jsonl", path.read_bytes())
    index = load_index(tmp_path / "copy")
    copied = _documents_file(tmp_path / "copy")
    data = copied.read_bytes()
    first_id = next(iter(index.documents))
    # Same length, other doc_id: written in place, as a disk error or a careless edit would.
    with open(copied, "r+b") as handle:
        handle.write(data.replace(f'"doc_id":"{first_id}"'.encode(), f'"doc_id":"{first_id[:-1]}_"'.encode(), 1))
    with pytest.raises(IndexCorruptedError, match=re.escape("the file changed after it was verified")):
        index.documents[first_id]


def test_document_lines_parse_in_blocks_like_the_whole_file(tmp_path: Path) -> None:
    from index import document_lines
    from index.manifest import documents_to_jsonl

    documents = tuple(Document(doc_id=f"doc{number}", source=f"doc{number}.txt", text=f"text {number}\u2028é",
                               title=f"Title {number}", content_hash="0" * 64) for number in range(7))
    path = tmp_path / "documents.jsonl"
    path.write_bytes(documents_to_jsonl(documents))
    previous = document_lines._PARSE_LINES
    document_lines._PARSE_LINES = 3
    try:
        lines = read_document_lines(path)
    finally:
        document_lines._PARSE_LINES = previous
    assert tuple(lines.values()) == documents
    assert lines.text_lengths.tolist() == [len(document.text) for document in documents]
    path.write_bytes(b"")
    assert len(read_document_lines(path)) == 0
