"""PDF documents: exact text with a page map, page furniture excluded, one line per bad file.

Built PDFs (tests/support/pdf_files.py) cover the bad inputs; real manuals from Debian packages
(``make pdf-corpus``) cover what real producers write. Those tests skip when the corpus is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index.manifest import documents_from_jsonl, documents_to_jsonl
from ingest.chunking import split_document
from ingest.pages import page_span, pages_of
from ingest.pdf import PdfExtraction, clean_page_text, extract_pdf
from ingest.readers import read_corpus, read_document
from ingest.records import ChunkingParams, Document, Refused
from tests.support.paths import PDF_CORPUS
from tests.support.pdf_files import IMAGE_ONLY, make_pdf

REAL_PDFS = ("camlidl", "docbook-xsl-reference", "freefem", "live-manual", "reportlab-userguide")
needs_pdf_corpus = pytest.mark.skipif(
    not all((PDF_CORPUS / f"{name}.pdf").is_file() for name in REAL_PDFS),
    reason=f"needs the real PDFs in {PDF_CORPUS}: run `make pdf-corpus` (or set GROUNDED_PDF_CORPUS)")


STORIES = (("harbour", "reopened on Monday after two years", "of repairs; fish prices fell by a third."),
           ("orchard", "flowered early in a warm March", "and the growers feared a late frost."),
           ("bridge", "closed for inspection after the storm", "while engineers checked every cable."),
           ("library", "opened a reading room for children", "with books in eleven languages."),
           ("market", "moved to the old station square", "where traders found more shade."))


def gazette(pages: int) -> list[list[str]]:
    """Pages with a running header, a page number and a sentence wrapped over two lines."""
    return [["Harbour Gazette - Spring edition",
             f"The {STORIES[number % 5][0]} {STORIES[number % 5][1]}",
             STORIES[number % 5][2],
             f"- {number + 1} -"] for number in range(pages)]


def extracted(data: bytes) -> PdfExtraction:
    result = extract_pdf(data)
    assert isinstance(result, PdfExtraction), result
    return result


def test_pages_of_a_range_and_the_span_of_a_page() -> None:
    pages = (0, 10, 10, 25)  # page 3 has no text
    assert pages_of(pages, 0, 10) == (1,)
    assert pages_of(pages, 8, 12) == (1, 2, 3)
    assert pages_of(pages, 12, 30) == (3, 4)
    assert pages_of((), 0, 5) == ()
    assert page_span(pages, 40, 4) == (25, 40)
    with pytest.raises(ValueError, match="it has 4 pages"):
        page_span(pages, 40, 5)


def test_the_text_is_the_pages_in_order_with_their_starts() -> None:
    result = extracted(make_pdf([["First page line one", "line two"], ["Second page"]], title="Gazette"))
    assert result.text == "First page line one\nline two\nSecond page\n"
    assert result.pages == (0, result.text.index("Second"))
    assert result.title == "Gazette"


def test_page_text_is_cleaned_without_losing_words() -> None:
    assert clean_page_text("dis\ufffeplayed on the\r\nscreen \x02\r\n\r\n") == "displayed on the\nscreen\n"
    assert clean_page_text(" \r\n ") == ""


def test_running_headers_and_page_numbers_are_furniture_and_never_indexed(tmp_path: Path) -> None:
    (tmp_path / "gazette.pdf").write_bytes(make_pdf(gazette(5)))
    [document] = read_corpus([tmp_path]).documents
    assert len(document.pages) == 5
    reasons = {document.text[region.start:region.end].strip(): region.reason for region in document.excluded}
    assert reasons["Harbour Gazette - Spring edition"] == "furniture:page-header"
    assert reasons["- 3 -"] == "furniture:page-number"
    split = split_document(document, ChunkingParams())
    assert split.chunks
    for chunk in split.chunks:
        assert document.text[chunk.start:chunk.end] == chunk.text
        assert "Gazette" not in chunk.text and "- 2 -" not in chunk.text
        assert document.pages_of(chunk.start, chunk.end)
    # Every story line is indexed, on its own page.
    for number in range(5):
        story = STORIES[number % 5]
        sentence = next(s for s in split.sentences if s.text.startswith(f"The {story[0]}"))
        assert document.pages_of(sentence.start, sentence.end) == (number + 1,)


def test_a_sentence_across_a_page_break_cites_both_pages() -> None:
    document_text = "The harbour reopened on Monday after\n" + "two years of repairs.\n"
    document = Document(doc_id="d", source="d.pdf", text=document_text, title="d", content_hash="x",
                        pages=(0, document_text.index("two")))
    assert document.pages_of(0, len(document_text) - 1) == (1, 2)


@pytest.mark.parametrize(("data", "code", "words"), [
    (make_pdf([["A secret memo about the harbour."]], encrypted=True), "encrypted", "password"),
    (make_pdf([IMAGE_ONLY, IMAGE_ONLY]), "no_text_layer", "OCR"),
    (make_pdf(gazette(3))[:400], "damaged", "not a readable PDF"),
    (b"%PDF-1.4\n", "damaged", "not a readable PDF"),
    (b"", "damaged", "not a readable PDF"),
])
def test_bad_pdfs_are_refused_in_one_line_that_says_why(data: bytes, code: str, words: str) -> None:
    result = extract_pdf(data)
    assert isinstance(result, Refused)
    assert result.code == code and words in result.reason and "\n" not in result.reason


def test_every_bad_file_is_one_line_and_every_other_file_is_still_ingested(tmp_path: Path) -> None:
    (tmp_path / "good.pdf").write_bytes(make_pdf(gazette(2)))
    (tmp_path / "locked.pdf").write_bytes(make_pdf([["secret"]], encrypted=True))
    (tmp_path / "scan.pdf").write_bytes(make_pdf([IMAGE_ONLY]))
    (tmp_path / "cut.pdf").write_bytes(make_pdf(gazette(2))[:300])
    (tmp_path / "long.pdf").write_bytes(make_pdf(gazette(4)))
    (tmp_path / "huge.pdf").write_bytes(make_pdf(gazette(1)) + b"%" + b"x" * 5000)
    (tmp_path / "notes.txt").write_text("The harbour reopened on Monday.\n", encoding="utf-8")
    corpus = read_corpus([tmp_path], max_pages=3, max_bytes=4000)
    assert [document.doc_id for document in corpus.documents] == ["good", "notes"]
    assert {rejection.path: rejection.code for rejection in corpus.rejections} == {
        "locked.pdf": "encrypted", "scan.pdf": "no_text_layer", "cut.pdf": "damaged",
        "long.pdf": "too_many_pages", "huge.pdf": "too_large"}
    assert all("\n" not in rejection.reason for rejection in corpus.rejections)


def test_pages_without_text_in_a_pdf_with_text_are_a_notice(tmp_path: Path) -> None:
    (tmp_path / "mixed.pdf").write_bytes(make_pdf([["Some text on the first page."], IMAGE_ONLY]))
    [document] = read_corpus([tmp_path]).documents
    [notice] = document.notices
    assert notice.code == "pages_without_text" and "page 2" in notice.reason
    assert document.pages == (0, len(document.text))


def test_the_page_map_survives_the_index(tmp_path: Path) -> None:
    (tmp_path / "gazette.pdf").write_bytes(make_pdf(gazette(3)))
    documents = read_corpus([tmp_path]).documents
    assert documents[0].encoding == ""
    assert documents_from_jsonl(documents_to_jsonl(documents), tmp_path / "documents.jsonl") == documents


@needs_pdf_corpus
@pytest.mark.parametrize("name", REAL_PDFS)
def test_real_pdfs_give_exact_text_page_maps_and_sentences(name: str) -> None:
    document = read_document(PDF_CORPUS / f"{name}.pdf", PDF_CORPUS)
    assert isinstance(document, Document), document
    assert document.pages[0] == 0 and list(document.pages) == sorted(document.pages)
    assert document.pages[-1] <= len(document.text)
    split = split_document(document, ChunkingParams())
    assert split.chunks
    for sentence in split.sentences:
        assert document.text[sentence.start:sentence.end] == sentence.text
        pages = document.pages_of(sentence.start, sentence.end)
        assert pages and all(1 <= page <= len(document.pages) for page in pages)
    assert "\ufffe" not in document.text and "\r" not in document.text


@needs_pdf_corpus
def test_the_reportlab_guide_loses_its_footers_and_keeps_its_chapters() -> None:
    document = read_document(PDF_CORPUS / "reportlab-userguide.pdf", PDF_CORPUS)
    assert isinstance(document, Document)
    assert len(document.pages) == 134
    excluded = [document.text[region.start:region.end].strip() for region in document.excluded]
    assert sum(text.startswith("Page ") for text in excluded) >= 130
    split = split_document(document, ChunkingParams())
    assert not any("User Guide Chapter" in chunk.text for chunk in split.chunks)
    # Bookmarks are headings: chunks carry their chapter path.
    assert any(chunk.context.startswith("Chapter 2 Graphics and Text with pdfgen") for chunk in split.chunks)
    # Page 21's text is on page 21.
    start, end = document.page_span(21)
    assert "Scale then translate" in document.text[start:end]


@needs_pdf_corpus
def test_a_manual_drawn_as_outlines_is_ingested_with_a_notice() -> None:
    document = read_document(PDF_CORPUS / "live-manual.pdf", PDF_CORPUS)
    assert isinstance(document, Document)
    [notice] = document.notices
    assert notice.code == "pages_without_text" and "42 of 64 pages" in notice.reason
