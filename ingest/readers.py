"""Reading a corpus from disk: files -> Document, with a one-line reason for every file refused.

The only I/O of ingestion. Text files are decoded with no newline translation (UTF-8, else the
encoding ``ingest.encoding`` finds), so every character offset means the same thing to every
reader; HTML, PDF and Word files go through their extractors (``ingest.html``, ``ingest.pdf``,
``ingest.word``).
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.encoding import decode_text
from ingest.errors import CorpusError
from ingest.furniture import detect_furniture
from ingest.html import extract_html
from ingest.markdown import markdown_structure, markdown_title
from ingest.pdf import DEFAULT_MAX_PAGES, extract_pdf
from ingest.records import CodeBlock, Document, Heading, Notice, Refused, Rejection
from ingest.title import derive_title
from ingest.word import extract_docx
from text import iter_sentences

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
WORD_SUFFIXES = frozenset({".docx", ".docm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | WORD_SUFFIXES
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Every sentence becomes a vector (1.5 KiB at 384 dimensions) plus its records, so memory and time
# grow with sentences, not bytes: 10 MB of one-word lines is a million sentences (107 s, 5.3 GB).
# A 500-page book has about 15,000 sentences; 20,000 admits it and holds one document's sentence
# vectors to 29 MiB at 384 dimensions.
DEFAULT_MAX_SENTENCES = 20_000



@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFile:
    """A corpus file as read: its identity and bytes, before any decoding."""

    doc_id: str
    source: str
    suffix: str
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CorpusRead:
    """What reading a corpus gave: the decoded documents and the refused files."""

    documents: tuple[Document, ...]
    rejections: tuple[Rejection, ...]


def _walk(root: Path) -> Iterator[Path]:
    """Every file under ``root`` in sorted order, skipping hidden files and folders."""
    for folder, folder_names, file_names in os.walk(root, followlinks=False):
        folder_names[:] = sorted(name for name in folder_names if not name.startswith("."))
        for name in sorted(file_names):
            if not name.startswith("."):
                yield Path(folder) / name


def _within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _read_file(path: Path, root: Path, max_bytes: int) -> SourceFile | Rejection:
    relative = path.relative_to(root).as_posix()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return Rejection(path=relative, code="unsupported_type",
                         reason=f"{suffix or 'no extension'} is not ingested "
                                "(use .txt, .md, .html, .pdf, .docx or .docm)")
    if path.is_symlink() and not _within(path, root):
        return Rejection(path=relative, code="symlink_outside_root",
                         reason="symlink points outside the corpus folder; copy the file in instead")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return Rejection(path=relative, code="too_large",
                             reason=f"{size} bytes is over the {max_bytes}-byte limit; split the file")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        return Rejection(path=relative, code="unreadable", reason=f"cannot read: {error.strerror}")
    if len(data) > max_bytes:
        return Rejection(path=relative, code="too_large",
                         reason=f"over the {max_bytes}-byte limit; split the file")
    doc_id = relative[: -len(path.suffix)] if path.suffix else relative
    return SourceFile(doc_id=doc_id, source=relative, suffix=suffix, data=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Extracted:
    """What a file's format gives before cleaning: the text and the structure it marks."""

    text: str
    title: str | None = None
    headings: tuple[Heading, ...] = ()
    code_blocks: tuple[CodeBlock, ...] = ()
    pages: tuple[int, ...] = ()
    encoding: str = ""
    notices: tuple[Notice, ...] = ()


def _extract(source: SourceFile, max_pages: int) -> _Extracted | Refused:
    """The text and structure of one file by its format (pure)."""
    if source.suffix in PDF_SUFFIXES:
        pdf = extract_pdf(source.data, max_pages=max_pages)
        if isinstance(pdf, Refused):
            return pdf
        return _Extracted(text=pdf.text, title=pdf.title, headings=pdf.headings, pages=pdf.pages,
                          notices=pdf.notices)
    if source.suffix in WORD_SUFFIXES:
        word = extract_docx(source.data, macro_enabled=source.suffix == ".docm")
        if isinstance(word, Refused):
            return word
        return _Extracted(text=word.text, title=word.title, headings=word.headings,
                          code_blocks=word.code_blocks, notices=word.notices)
    decoded = decode_text(source.data)
    if isinstance(decoded, Refused):
        return decoded
    notices = (Notice(code="damaged_utf8", reason=decoded.damage),) if decoded.damage else ()
    if source.suffix in HTML_SUFFIXES:
        html = extract_html(decoded.text)
        if not html.text.strip():
            return Refused(code="empty", reason="the HTML extractor found no article text")
        return _Extracted(text=html.text, title=html.title, headings=html.headings,
                          code_blocks=html.code_blocks, encoding=decoded.encoding, notices=notices)
    if source.suffix in MARKDOWN_SUFFIXES:
        structure = markdown_structure(decoded.text)
        return _Extracted(text=decoded.text, title=markdown_title(decoded.text, structure.headings),
                          headings=structure.headings, code_blocks=structure.code_blocks,
                          encoding=decoded.encoding, notices=notices)
    return _Extracted(text=decoded.text, encoding=decoded.encoding, notices=notices)


def _has_more_sentences(text: str, limit: int) -> bool:
    """True when ``text`` holds more than ``limit`` sentences; stops counting at ``limit + 1``."""
    return next(itertools.islice(iter_sentences(text), limit, None), None) is not None


def to_document(source: SourceFile, *, max_sentences: int = DEFAULT_MAX_SENTENCES,
                max_pages: int = DEFAULT_MAX_PAGES) -> Document | Rejection:
    """Decode or extract one file, find furniture and the title (the cleaning is pure).

    A text of more than ``max_sentences`` sentences is refused before any cleaning, which costs
    time in proportion to its lines; a PDF of more than ``max_pages`` pages before any extraction.
    """
    extracted = _extract(source, max_pages)
    if isinstance(extracted, Refused):
        return Rejection(path=source.source, code=extracted.code, reason=extracted.reason)
    text = extracted.text
    if _has_more_sentences(text, max_sentences):
        return Rejection(path=source.source, code="too_many_sentences",
                         reason=f"over the {max_sentences}-sentence limit (each line is at least one "
                                "sentence); split the file into smaller documents")
    excluded = detect_furniture(text, extracted.pages)
    title = (extracted.title or "").strip() or derive_title(text, excluded) or source.doc_id
    return Document(doc_id=source.doc_id, source=source.source, text=text, title=title,
                    content_hash=hashlib.sha256(source.data).hexdigest(), excluded=excluded,
                    headings=extracted.headings, code_blocks=extracted.code_blocks, pages=extracted.pages,
                    encoding=extracted.encoding, notices=extracted.notices)


def check_corpus_paths(paths: Sequence[Path]) -> None:
    """Raise CorpusError naming the first of ``paths`` that does not exist (before any model loads)."""
    for given in paths:
        if not given.exists():
            raise CorpusError(f"corpus path {given} does not exist; pass a folder or file to ingest")


def corpus_files(paths: Sequence[Path]) -> tuple[tuple[Path, Path], ...]:
    """Every file under ``paths`` as ``(path, root)``, in reading order; doc_ids are relative to root.

    Raises CorpusError when a given path does not exist or cannot be listed.
    """
    check_corpus_paths(paths)
    files: list[tuple[Path, Path]] = []
    for given in paths:
        if given.is_dir():
            if not os.access(given, os.R_OK | os.X_OK):
                raise CorpusError(f"corpus folder {given} is not readable; check its permissions")
            files.extend((path, given) for path in _walk(given))
        else:
            files.append((given, given.parent))
    return tuple(files)


def read_document(path: Path, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                  max_sentences: int = DEFAULT_MAX_SENTENCES,
                  max_pages: int = DEFAULT_MAX_PAGES) -> Document | Rejection:
    """One corpus file as a decoded Document, or the reason it is refused."""
    read = _read_file(path, root, max_bytes)
    return read if isinstance(read, Rejection) else to_document(read, max_sentences=max_sentences,
                                                                 max_pages=max_pages)


def gather_corpus(items: Sequence[Document | Rejection]) -> CorpusRead:
    """The corpus from files read in ``corpus_files`` order: repeated doc_ids and bytes refused (pure)."""
    documents: dict[str, Document] = {}
    seen_hashes: dict[str, str] = {}
    rejections: list[Rejection] = []
    for item in items:
        if isinstance(item, Rejection):
            rejections.append(item)
        elif item.doc_id in documents:
            rejections.append(Rejection(
                path=item.source, code="duplicate_doc_id",
                reason=f"doc_id {item.doc_id!r} is taken by {documents[item.doc_id].source}; rename one"))
        elif item.content_hash in seen_hashes:
            rejections.append(Rejection(
                path=item.source, code="duplicate_document",
                reason=f"same bytes as {seen_hashes[item.content_hash]}; indexed once"))
        else:
            documents[item.doc_id] = item
            seen_hashes[item.content_hash] = item.source
    ordered = tuple(documents[doc_id] for doc_id in sorted(documents))
    return CorpusRead(documents=ordered, rejections=tuple(rejections))


def read_corpus(paths: Sequence[Path], *, max_bytes: int = DEFAULT_MAX_BYTES,
                max_sentences: int = DEFAULT_MAX_SENTENCES, max_pages: int = DEFAULT_MAX_PAGES,
                on_file: Callable[[], None] | None = None) -> CorpusRead:
    """Read every supported file under ``paths``; doc_ids are relative to each given folder.

    ``on_file`` is called after each file (progress of a long read).

    Files over ``max_bytes`` bytes, documents over ``max_sentences`` sentences and PDFs over
    ``max_pages`` pages are refused.

    Raises CorpusError when a given path does not exist or cannot be listed. Files are refused
    one by one (with a reason) and never stop the others.
    """
    if max_sentences < 1:
        raise ValueError(f"max_sentences is {max_sentences}; pass a limit of at least 1 sentence per document")
    read: list[Document | Rejection] = []
    for path, root in corpus_files(paths):
        read.append(read_document(path, root, max_bytes=max_bytes, max_sentences=max_sentences,
                                  max_pages=max_pages))
        if on_file is not None:
            on_file()
    return gather_corpus(read)
