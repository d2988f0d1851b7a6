"""PDF bytes -> text with a page map, title and bookmark headings, through pdfium (pypdfium2).

pdfium (Chrome's PDF engine) was chosen by measurement over pypdf and pdfminer.six: 5 to 25 times
faster per page, ligatures already decomposed and words hyphenated at a line end already joined
(docs/ingest.md, "PDF extractor", and ``python -m bench.perf.pdf_extractors``).

The document text is pdfium's text of each page in page order, with its line breaks as ``\\n``
and its end-of-line hyphens (U+FFFE, "dis-/played") removed; each page's text ends with one line
break, so a page break is a line break and ``Document.pages`` says where each page starts. Nothing
is run: pdfium executes no JavaScript here (no form environment is initialised) and follows no
link. Refusals: ``encrypted`` (a user password), ``damaged`` (pdfium cannot parse it),
``too_many_pages``, ``no_text_layer`` (no page has text: a scan; no OCR is done). Pages without
text in a PDF that has some are reported as a notice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pypdfium2 as pdfium  # type: ignore[import-untyped]
import pypdfium2.raw as pdfium_c  # type: ignore[import-untyped]

from ingest.records import Heading, Notice, Refused

DEFAULT_MAX_PAGES = 2_000
"""Pages extracted at most (about 2 ms a page); a longer PDF is refused as ``too_many_pages``."""
_PAGE_BREAK = "\n"
_LINE_BREAK = re.compile(r"\r\n|\r")
_END_OF_LINE_HYPHEN = "\ufffe"  # pdfium's mark for a hyphen it removed with the line break after it
# Control characters pdfium may leave in text (form feeds, NULs from broken fonts), tab and line feed kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SECTION_NUMBER = re.compile(r"^(?:(?:\d+|[A-Z])(?:\.\d+)*\.?|[IVXLC]+\.)\s+")
_LISTED_PAGES = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfExtraction:
    """A PDF's text, where each page starts in it, its metadata title and its bookmarks as headings."""

    text: str
    pages: tuple[int, ...]
    title: str | None
    headings: tuple[Heading, ...] = ()
    notices: tuple[Notice, ...] = ()


def extract_pdf(data: bytes, *, max_pages: int = DEFAULT_MAX_PAGES) -> PdfExtraction | Refused:
    """The text of a PDF file's bytes, page by page, or why it gives none."""
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        return _load_refusal(error)
    try:
        page_count = len(document)
        if page_count > max_pages:
            return Refused(code="too_many_pages",
                           reason=f"{page_count} pages is over the {max_pages}-page limit; split the PDF")
        if page_count == 0:
            return Refused(code="empty", reason="the PDF has no pages")
        texts, unreadable = _page_texts(document, page_count)
        if not any(text.strip() for text in texts):
            return Refused(code="no_text_layer", reason=(
                f"none of its {page_count} pages has a text layer (a scanned or image-only PDF?); "
                "grounded does no OCR: run OCR on it (for example ocrmypdf) and ingest the result"))
        starts: list[int] = []
        position = 0
        for text in texts:
            starts.append(position)
            position += len(text)
        full_text = "".join(texts)
        headings = _bookmark_headings(document, full_text, starts)
        title = (document.get_metadata_value("Title") or "").strip() or None
    finally:
        document.close()
    notices = _notices(texts, unreadable)
    return PdfExtraction(text=full_text, pages=tuple(starts), title=title, headings=headings, notices=notices)


def _load_refusal(error: pdfium.PdfiumError) -> Refused:
    if error.err_code == pdfium_c.FPDF_ERR_PASSWORD:
        return Refused(code="encrypted", reason=(
            "the PDF is encrypted with a password; save a copy without it (for example "
            "`qpdf --decrypt --password=... in.pdf out.pdf`) and ingest that"))
    if error.err_code == pdfium_c.FPDF_ERR_SECURITY:
        return Refused(code="encrypted", reason="the PDF uses an unsupported security handler; save a copy "
                                                "without encryption and ingest that")
    return Refused(code="damaged", reason=f"not a readable PDF ({_pdfium_message(error)}); "
                                          "re-export or repair it (for example `qpdf in.pdf out.pdf`)")


def _pdfium_message(error: pdfium.PdfiumError) -> str:
    """pdfium's own words for a load error ("Data format error")."""
    match = re.search(r"PDFium: ([^)]*)", str(error))
    return match.group(1).rstrip(".") if match else str(error)


def _page_texts(document: pdfium.PdfDocument, page_count: int) -> tuple[list[str], list[int]]:
    """Each page's cleaned text (ending in a line break unless empty) and the pages pdfium could not load."""
    texts: list[str] = []
    unreadable: list[int] = []
    for index in range(page_count):
        try:
            page = document[index]
        except pdfium.PdfiumError:
            unreadable.append(index + 1)
            texts.append("")
            continue
        try:
            textpage = page.get_textpage()
            try:
                raw = textpage.get_text_range()
            finally:
                textpage.close()
        finally:
            page.close()
        texts.append(clean_page_text(raw))
    return texts, unreadable


def clean_page_text(raw: str) -> str:
    """One page's text as the document holds it: ``\\n`` line breaks, end-of-line hyphens joined,
    no control characters, no trailing spaces on a line, and one final line break (pure)."""
    text = _LINE_BREAK.sub("\n", raw).replace(_END_OF_LINE_HYPHEN, "")
    text = _CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    body = "\n".join(lines).strip("\n")
    return body + _PAGE_BREAK if body.strip() else ""


def _notices(texts: Sequence[str], unreadable: Sequence[int]) -> tuple[Notice, ...]:
    notices: list[Notice] = []
    if unreadable:
        notices.append(Notice(code="unreadable_pages", reason=(
            f"pdfium could not load {_page_list(unreadable)}; their text is missing")))
    empty = [number for number, text in enumerate(texts, 1) if not text and number not in unreadable]
    if empty:
        notices.append(Notice(code="pages_without_text", reason=(
            f"{len(empty)} of {len(texts)} pages have no text layer ({_page_list(empty)}: images, "
            "scans or text drawn as outlines); grounded does no OCR, so their content is not indexed")))
    return tuple(notices)


def _page_list(numbers: Sequence[int]) -> str:
    shown = ", ".join(str(number) for number in numbers[:_LISTED_PAGES])
    more = f" and {len(numbers) - _LISTED_PAGES} more" if len(numbers) > _LISTED_PAGES else ""
    return f"page{'s' if len(numbers) != 1 else ''} {shown}{more}"


def _normalized(text: str) -> str:
    """A heading as compared: no section number, single spaces, lower case."""
    return " ".join(_SECTION_NUMBER.sub("", " ".join(text.split())).split()).casefold()


def _bookmark_headings(document: pdfium.PdfDocument, text: str, starts: Sequence[int]) -> tuple[Heading, ...]:
    """The bookmarks (outline) that name a line of their target page, as headings in text order.

    A bookmark is a heading when a line of its page reads the same, section numbers aside
    ("2.3 Attributes" for the bookmark "Attributes"); one that matches no line is left out.
    """
    headings: list[Heading] = []
    taken: set[int] = set()
    for item in document.get_toc(max_depth=6):
        destination = item.get_dest()
        page_index = destination.get_index() if destination is not None else None
        title = _normalized(item.get_title() or "")
        if page_index is None or not title or not 0 <= page_index < len(starts):
            continue
        page_end = starts[page_index + 1] if page_index + 1 < len(starts) else len(text)
        position = starts[page_index]
        for line in text[starts[page_index]:page_end].split("\n"):
            line_start, position = position, position + len(line) + 1
            if line_start not in taken and line.strip() and _normalized(line) == title:
                offset = len(line) - len(line.lstrip())
                headings.append(Heading(start=line_start + offset, end=line_start + len(line.rstrip()),
                                        level=min(item.level + 1, 6)))
                taken.add(line_start)
                break
    return tuple(sorted(headings, key=lambda heading: heading.start))
