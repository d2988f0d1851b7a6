"""Text files in legacy encodings: detected and decoded, the encoding reported; only binary refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.manifest import documents_from_jsonl, documents_to_jsonl
from ingest.encoding import Decoded, decode_text
from ingest.readers import read_corpus
from ingest.records import Refused
from tests.support.paths import NEWS_DISTRACTORS

FRENCH = "Le café de la gare a fermé. Les élèves sont partis à Noël, l’été dernier.\n"


def decoded(data: bytes) -> Decoded:
    result = decode_text(data)
    assert isinstance(result, Decoded), result
    return result


def test_utf8_is_read_as_it_is() -> None:
    result = decoded(FRENCH.encode())
    assert (result.text, result.encoding, result.detected, result.damage) == (FRENCH, "utf-8", False, "")


@pytest.mark.parametrize(("codec", "mark", "name"), [
    ("utf-16-le", b"\xff\xfe", "utf-16-le"), ("utf-16-be", b"\xfe\xff", "utf-16-be"),
    ("utf-32-le", b"\xff\xfe\x00\x00", "utf-32-le"), ("utf-32-be", b"\x00\x00\xfe\xff", "utf-32-be"),
])
def test_a_byte_order_mark_names_the_encoding(codec: str, mark: bytes, name: str) -> None:
    result = decoded(mark + FRENCH.encode(codec))
    assert (result.text, result.encoding, result.detected) == (FRENCH, name, False)


@pytest.mark.parametrize(("text", "codec", "expected"), [
    (FRENCH * 3, "cp1252", "cp1252"),
    ("Café crème, s'il vous plaît.\n", "cp1252", "cp1252"),  # two non-ASCII bytes
    ("He said \u201cno\u201d \u2014 and left. It cost \u00a315.\n" * 2, "cp1252", "cp1252"),
    ("Москва — столица России. Это большой город с долгой историей.\n" * 2, "cp1251", "cp1251"),
    ("Привет мир, это тест кодировки. Москва, столица России, большой город.\n" * 4, "koi8-r", "koi8-r"),
    ("日本語のテキストです。これはテストです。", "shift_jis", "cp932"),
    ("Καλημέρα κόσμε, αυτό είναι ένα δοκιμαστικό κείμενο.\n", "cp1253", "cp1253"),
])
def test_a_legacy_encoding_is_detected_and_the_text_is_exact(text: str, codec: str, expected: str) -> None:
    result = decoded(text.encode(codec))
    assert result.text == text
    assert (result.encoding, result.detected) == (expected, True)


@pytest.mark.skipif(not (NEWS_DISTRACTORS / "sport_199.txt").is_file(),
                    reason="needs ../shared/corpora/news-distractors (set GROUNDED_NEWS_DISTRACTORS)")
def test_the_one_cp1252_news_article_is_ingested_with_its_pound_sign(tmp_path: Path) -> None:
    # Its only non-ASCII byte is one 0xA3 ("£15.8m"): charset-normalizer's own first choice is cp932.
    source = NEWS_DISTRACTORS / "sport_199.txt"
    data = source.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    (tmp_path / "sport_199.txt").write_bytes(data)
    [document] = read_corpus([tmp_path]).documents
    assert document.encoding == "cp1252"
    assert document.text == data.decode("cp1252")
    assert "£15.8m" in document.text


def test_a_truncated_multibyte_sequence_is_reported_not_silently_replaced() -> None:
    data = "Zoë Müller paid €4 for a croissant.\nThe price rose to €".encode()[:-1]
    result = decoded(data)
    assert result.encoding == "utf-8"
    assert result.text == "Zoë Müller paid €4 for a croissant.\nThe price rose to \ufffd"
    assert "byte 58" in result.damage and "truncated" in result.damage and "\n" not in result.damage
    assert len(data) == 60


def test_a_stray_byte_in_an_otherwise_utf8_file_is_reported_with_its_offset(tmp_path: Path) -> None:
    data = "Café Zoë Müller €4 ".encode() + b"\xc3\x28 end\n"
    (tmp_path / "stray.txt").write_bytes(data)
    [document] = read_corpus([tmp_path]).documents
    assert document.text == "Café Zoë Müller €4 \ufffd( end\n"
    [notice] = document.notices
    assert notice.code == "damaged_utf8"
    offset = data.index(b"\xc3\x28")
    assert f"byte {offset}" in notice.reason and "0xc3" in notice.reason


@pytest.mark.parametrize(("data", "code"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8, "binary"),
    (bytes(range(1, 9)) * 200, "binary"),
    (b"Text with a NUL\x00 byte in the middle of a sentence.\n", "binary"),
    (b"\xff\xfe" + "Cut UTF-16.".encode("utf-16-le") + b"\x00\xd8", "invalid_encoding"),
    (b"", "empty"),
    (b"\xff\xfe", "empty"),
])
def test_only_what_is_really_binary_is_refused(data: bytes, code: str) -> None:
    result = decode_text(data)
    assert isinstance(result, Refused)
    assert result.code == code and "\n" not in result.reason


def test_the_encoding_is_in_the_document_and_survives_the_index(tmp_path: Path) -> None:
    (tmp_path / "french.txt").write_bytes((FRENCH * 3).encode("cp1252"))
    (tmp_path / "wide.md").write_bytes("# Titre\n\n".encode("utf-16") + FRENCH.encode("utf-16-le"))
    (tmp_path / "plain.txt").write_bytes(FRENCH.encode())
    documents = read_corpus([tmp_path]).documents
    assert {document.doc_id: document.encoding for document in documents} == {
        "french": "cp1252", "plain": "utf-8", "wide": "utf-16-le"}
    wide = next(document for document in documents if document.doc_id == "wide")
    assert wide.title == "Titre"  # Markdown structure is read from the decoded text
    lines = documents_to_jsonl(documents)
    assert b'"encoding"' in lines.splitlines()[0] and b'"encoding"' not in lines.splitlines()[1]
    assert documents_from_jsonl(lines, tmp_path / "documents.jsonl") == documents
