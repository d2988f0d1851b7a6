"""Word documents built with python-docx: paragraphs, headings as sections, tables as rows, .docm macros never run."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import ingest.word
from ingest.chunking import split_document
from ingest.readers import read_corpus
from ingest.records import ChunkingParams, Refused
from ingest.word import DocxExtraction, extract_docx
from tests.support.pdf_files import MACRO_SOURCE, make_docm, make_docx


def test_paragraphs_headings_and_table_rows_in_document_order() -> None:
    result = extract_docx(make_docx())
    assert isinstance(result, DocxExtraction)
    assert result.text == (
        "Harbour report\n\nRepairs\n\n"
        "The harbour reopened on Monday after two years of repairs. Ships returned at dawn.\n\n"
        "Ship | Tonnage | Arrived\n\nAurora | 12,000 | Tuesday\n\nBorealis | Friday\n\n"
        "Prices\n\nFish prices at the market fell by a third in the first week.")
    assert [(result.text[h.start:h.end], h.level) for h in result.headings] == [
        ("Harbour report", 1), ("Repairs", 1), ("Prices", 2)]
    assert result.title == "Harbour report"


def test_headings_become_sections_of_the_chunks(tmp_path: Path) -> None:
    (tmp_path / "report.docx").write_bytes(make_docx())
    [document] = read_corpus([tmp_path]).documents
    assert document.title == "Harbour report" and document.encoding == "" and not document.pages
    chunks = split_document(document, ChunkingParams(min_chunk_tokens=1)).chunks
    fish = next(chunk for chunk in chunks if "Fish prices" in chunk.text)
    # A section's own heading opens its text; the path above it is the context.
    assert fish.context == "Repairs" and fish.text.startswith("Prices")
    for chunk in chunks:
        assert document.text[chunk.start:chunk.end] == chunk.text


def test_a_docm_is_read_without_its_macros(tmp_path: Path) -> None:
    (tmp_path / "macro.docm").write_bytes(make_docm())
    [document] = read_corpus([tmp_path]).documents
    assert "Fish prices" in document.text and "Shell" not in document.text
    [notice] = document.notices
    assert notice.code == "macros_ignored" and "neither loaded nor run" in notice.reason


def test_a_docm_renamed_docx_is_read_the_same_way() -> None:
    result = extract_docx(make_docm())
    assert isinstance(result, DocxExtraction) and result.notices[0].code == "macros_ignored"
    assert MACRO_SOURCE.decode() not in result.text


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_bad_word_files_are_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest.word, "MAX_UNPACKED_BYTES", 1_000_000)
    good = make_docx()
    bomb = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b" " * 1_100_000})
    cases = {
        "cut.docx": (good[: len(good) // 2], "damaged"),
        "text.docx": (b"This is plain text, not a Word file.", "damaged"),
        "legacy.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "damaged"),
        "locked.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptedPackage".encode("utf-16-le"), "encrypted"),
        "bomb.docx": (bomb, "too_large"),
        "blank.docx": (_blank_docx(), "empty"),
    }
    for name, (data, _) in cases.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "good.docx").write_bytes(good)
    corpus = read_corpus([tmp_path])
    assert [document.doc_id for document in corpus.documents] == ["good"]
    assert {rejection.path: rejection.code for rejection in corpus.rejections} == {
        name: code for name, (_, code) in cases.items()}
    assert all("\n" not in rejection.reason for rejection in corpus.rejections)


def _blank_docx() -> bytes:
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    return buffer.getvalue()


def test_an_oversized_package_is_refused_before_decompressing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest.word, "MAX_UNPACKED_BYTES", 1000)
    result = extract_docx(_zip({"word/document.xml": b"a" * 1001}))
    assert isinstance(result, Refused) and result.code == "too_large" and "1001 bytes" in result.reason
