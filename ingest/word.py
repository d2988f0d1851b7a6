"""Word documents (.docx, and .docm with its macros left unrun) -> text with headings, through python-docx.

The body is read in document order: each paragraph is a paragraph of the text, a paragraph in a
heading style ("Heading 1" to "Heading 6", "Title") is a heading that opens a section, exactly as
an HTML ``h1``-``h6`` does, and each table row is one line with its cells joined by " | " (the
same as HTML tables, ``ingest.html_text``). Paragraphs are separated by one blank line.

A .docm is a .docx with a VBA project: its package is rewritten in memory without the
``vbaProject`` parts and with the ordinary document content type, then read like a .docx, so no
macro is ever loaded, let alone run. The zip's declared sizes are checked before anything is
decompressed (a zip bomb is refused as ``too_large``). Refusals: ``encrypted`` (a password-
protected Office file is an OLE container, not a zip), ``damaged``, ``too_large``, ``empty``.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import docx
import docx.document
import docx.table
import docx.text.paragraph
import lxml.etree  # type: ignore[import-untyped]  # lxml ships no type stubs

from ingest.errors import IngestError
from ingest.html_text import CELL_SEPARATOR, Block, join_blocks
from ingest.records import CodeBlock, Heading, Notice, Refused

MAX_UNPACKED_BYTES = 256 * 1024 * 1024
"""Most bytes a Word file's parts may unpack to (a 10 MB file of text unpacks to about 60 MB)."""
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
_MACRO_PART = re.compile(r"(?:^|/)vba[^/]*\.bin$|(?:^|/)_rels/vba[^/]*\.bin\.rels$", re.IGNORECASE)
_HEADING_STYLE = re.compile(r"^heading ([1-6])$", re.IGNORECASE)
# No DTDs, no entities, no network: a relationships part is small, plain XML.
_SAFE_XML = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class DocxExtraction:
    """A Word document's text, its title (core properties, else the Title paragraph) and structure."""

    text: str
    title: str | None
    headings: tuple[Heading, ...] = ()
    code_blocks: tuple[CodeBlock, ...] = ()
    notices: tuple[Notice, ...] = ()


def extract_docx(data: bytes, *, macro_enabled: bool = False) -> DocxExtraction | Refused:
    """The text of a .docx (or, with ``macro_enabled``, a .docm) file's bytes, or why it gives none."""
    if data.startswith(_OLE_MAGIC):
        if _ENCRYPTED_PACKAGE in data:
            return Refused(code="encrypted", reason=("the Word file is encrypted with a password; save a copy "
                                                     "without it and ingest that"))
        return Refused(code="damaged", reason=("an OLE file, not a .docx (a Word 97-2003 .doc renamed?); "
                                               "save it as .docx in Word or LibreOffice"))
    try:
        package, macros = _package(data, macro_enabled=macro_enabled)
        document = docx.Document(io.BytesIO(package))
        blocks, title_paragraph = _blocks(document)
        core_title = (document.core_properties.title or "").strip()
    except _OversizedError as error:
        return Refused(code="too_large", reason=str(error))
    except (zipfile.BadZipFile, KeyError, ValueError, lxml.etree.XMLSyntaxError, EOFError) as error:
        return Refused(code="damaged", reason=f"not a readable Word file ({_first_line(error)}); re-save it as .docx")
    joined = join_blocks(blocks)
    if not joined.text.strip():
        return Refused(code="empty", reason="the Word document has no text")
    notices = (Notice(code="macros_ignored", reason=(
        f"its VBA macros ({macros} part{'s' if macros != 1 else ''}) were neither loaded nor run; "
        "only the document text is indexed")),) if macros else ()
    return DocxExtraction(text=joined.text, title=core_title or title_paragraph, headings=joined.headings,
                          code_blocks=joined.code_blocks, notices=notices)


class _OversizedError(IngestError):
    """The zip's parts unpack to more than ``MAX_UNPACKED_BYTES``."""


def _first_line(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return message[0] if message else type(error).__name__


def _package(data: bytes, *, macro_enabled: bool) -> tuple[bytes, int]:
    """The package python-docx reads, and how many macro parts were left out of it.

    A .docx is returned as it is. A .docm is copied part by part without its VBA parts, with its
    macro-enabled content type replaced by the ordinary one (python-docx refuses the former).
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise _OversizedError(f"its parts unpack to {unpacked} bytes, over the {MAX_UNPACKED_BYTES}-byte "
                             "limit (a zip bomb, or a document full of media); save a smaller copy")
        if not macro_enabled and _DOCM_MAIN.encode() not in archive.read("[Content_Types].xml"):
            return data, 0
        output = io.BytesIO()
        macros = 0
        with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as rewritten:
            for member in archive.infolist():
                if _MACRO_PART.search(member.filename):
                    macros += not member.filename.lower().endswith(".rels")
                    continue
                part = archive.read(member)
                if member.filename == "[Content_Types].xml":
                    part = part.replace(_DOCM_MAIN.encode(), _DOCX_MAIN.encode())
                elif member.filename.endswith(".rels"):
                    part = _without_macro_relationships(part)
                rewritten.writestr(member, part)
    return output.getvalue(), macros


def _without_macro_relationships(rels: bytes) -> bytes:
    """A relationships part without the relationships that point at a VBA part (left out of the package)."""
    root = lxml.etree.fromstring(rels, parser=_SAFE_XML)
    macro = [element for element in root if _MACRO_PART.search(str(element.get("Target", "")))]
    for element in macro:
        root.remove(element)
    return rels if not macro else bytes(lxml.etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                                             standalone=True))


def _blocks(document: docx.document.Document) -> tuple[list[Block], str | None]:
    """The body's paragraphs, headings and table rows in order, and the first Title paragraph's text."""
    blocks: list[Block] = []
    title: str | None = None
    for item in document.iter_inner_content():
        if isinstance(item, docx.table.Table):
            blocks.extend(Block(text=row, kind="row") for row in _rows(item))
            continue
        text = _one_line(item.text)
        if not text:
            continue
        level = _heading_level(item)
        if level == 1 and title is None and _style_name(item).lower() == "title":
            title = text
        blocks.append(Block(text=text, kind="heading" if level else "prose", level=level))
    return blocks, title


def _rows(table: docx.table.Table) -> Iterator[str]:
    """Each row's cells on one line, joined by " | " (a merged cell once; empty cells left out)."""
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if previous is not None and cell._tc is previous:  # a horizontally merged cell repeats
                continue
            previous = cell._tc
            text = _one_line(cell.text)
            if text:
                cells.append(text)
        if cells:
            yield CELL_SEPARATOR.join(cells)


def _one_line(text: str) -> str:
    """A paragraph's text on one line: Word's line breaks and tabs inside it become spaces."""
    return " ".join(text.split())


def _style_name(paragraph: docx.text.paragraph.Paragraph) -> str:
    style = paragraph.style
    return (style.name or "") if style is not None else ""


def _heading_level(paragraph: docx.text.paragraph.Paragraph) -> int:
    """1-6 for a paragraph in a heading style ("Heading 2" is 2, "Title" is 1), else 0."""
    name = _style_name(paragraph)
    if name.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(name)
    return int(match.group(1)) if match else 0
