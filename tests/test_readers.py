"""Reading a corpus: doc ids, exact text, and a stable reason for every refused file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.errors import CorpusError
from ingest.readers import read_corpus

GOOD = "A headline about the harbour\n\nThe harbour reopened on Monday after repairs.\r\nShips returned.\n"


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def codes(folder: Path) -> dict[str, str]:
    return {rejection.path: rejection.code for rejection in read_corpus([folder]).rejections}


def test_seed_doc_ids_and_text_without_newline_translation(seed_corpus: Path) -> None:
    corpus = read_corpus([seed_corpus])
    assert [d.doc_id for d in corpus.documents] == sorted(p.stem for p in seed_corpus.glob("*.txt"))
    for document in corpus.documents:
        with (seed_corpus / document.source).open(encoding="utf-8", newline="") as handle:
            assert document.text == handle.read()
        assert document.title.strip()
    assert corpus.rejections == ()


def test_crlf_is_kept_and_nested_paths_become_doc_ids(tmp_path: Path) -> None:
    write(tmp_path / "world" / "harbour.txt", GOOD.encode())
    [document] = read_corpus([tmp_path]).documents
    assert document.doc_id == "world/harbour"
    assert "\r\n" in document.text


def test_every_bad_file_kind_is_reported_and_good_files_still_ingested(tmp_path: Path) -> None:
    write(tmp_path / "good.txt", GOOD.encode())
    write(tmp_path / "empty.txt", b"")
    write(tmp_path / "blank.md", b"  \n\t\n")
    write(tmp_path / "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    write(tmp_path / "latin1.txt", "Caf\xe9 au lait, s'il vous pla\xeet.".encode("latin-1"))
    write(tmp_path / "utf16.txt", "A UTF-16 file with a BOM.".encode("utf-16"))
    write(tmp_path / "big.txt", b"word " * 300)
    write(tmp_path / "image.png", b"\x89PNG")
    write(tmp_path / "zz-copy.txt", GOOD.encode())
    outside = write(tmp_path.parent / f"{tmp_path.name}-outside.txt", GOOD.encode() + b"x")
    os.symlink(outside, tmp_path / "escape.txt")
    corpus = read_corpus([tmp_path], max_bytes=1000)
    # Legacy encodings are decoded (tests/test_encoding.py), not refused.
    assert [d.doc_id for d in corpus.documents] == ["good", "latin1", "utf16"]
    assert {r.path: r.code for r in corpus.rejections} == {
        "empty.txt": "empty",
        "blank.md": "empty",
        "binary.txt": "binary",
        "big.txt": "too_large",
        "image.png": "unsupported_type",
        "zz-copy.txt": "duplicate_document",
        "escape.txt": "symlink_outside_root",
    }
    for rejection in corpus.rejections:
        assert rejection.reason and "\n" not in rejection.reason


def test_symlink_inside_the_root_is_followed(tmp_path: Path) -> None:
    target = write(tmp_path / "real.txt", GOOD.encode())
    write(tmp_path / "other.txt", b"Another story about trains and stations in the north.")
    os.symlink(target, tmp_path / "alias.md")
    corpus = read_corpus([tmp_path])
    # Files are read in sorted order, so the alias comes first and the real file is the repeat.
    assert {d.doc_id for d in corpus.documents} == {"alias", "other"}
    assert codes(tmp_path) == {"real.txt": "duplicate_document"}


def test_missing_corpus_path_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        read_corpus([tmp_path / "nope"])


def test_html_goes_through_the_extractor(tmp_path: Path) -> None:
    html = ("<html><head><title>Harbour reopens</title></head><body><nav>Home | World | Sport</nav>"
            "<article><h1>Harbour reopens</h1><p>The harbour reopened on Monday after two years of "
            "repairs, officials said, and the first ships returned on Tuesday morning.</p>"
            "<p>Fishermen welcomed the news and said prices would fall.</p></article>"
            "<footer>Copyright 2024 Example News</footer></body></html>")
    write(tmp_path / "page.html", html.encode())
    [document] = read_corpus([tmp_path]).documents
    assert "harbour reopened on Monday" in document.text
    assert "<p>" not in document.text
    assert document.title == "Harbour reopens"
