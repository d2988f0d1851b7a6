"""Small PDF and Word files built by the tests: PDF bytes written by hand, .docx/.docm through python-docx.

The PDF writer knows just enough of the format (ISO 32000-1, section 7) for tests: pages of text
lines in Helvetica, pages with only a drawn rectangle (no text layer, like a scan), an
``/Encrypt`` dictionary whose user password is not empty, and an ``/Info`` title.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

import docx

IMAGE_ONLY = None
"""A page given as ``IMAGE_ONLY`` holds a filled rectangle and no text (what a scanned page looks like)."""
_LINE_HEIGHT = 14


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("cp1252") + b")"


def _content(lines: Sequence[str] | None) -> bytes:
    if lines is None:
        return b"0.5 0.5 0.5 rg 72 300 400 400 re f"
    shown = b" ".join(_pdf_string(line) + b" Tj T*" for line in lines)
    return b"BT /F1 11 Tf %d TL 72 760 Td " % _LINE_HEIGHT + shown + b" ET"


def make_pdf(pages: Sequence[Sequence[str] | None], *, title: str | None = None, encrypted: bool = False) -> bytes:
    """A PDF whose page ``i`` shows the lines ``pages[i]`` from the top (``IMAGE_ONLY``: no text).

    ``encrypted`` adds a standard security handler whose user password is not the empty one, so
    a reader cannot open the file without a password.
    """
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objects: list[bytes] = [b"", b"", font]
    page_numbers: list[int] = []
    for lines in pages:
        content = _content(lines)
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        content_number = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % content_number)
        page_numbers.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = b" ".join(b"%d 0 R" % number for number in page_numbers)
    objects[1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_numbers)
    trailer = b"/Root 1 0 R"
    if title is not None:
        objects.append(b"<< /Title " + _pdf_string(title) + b" >>")
        trailer += b" /Info %d 0 R" % len(objects)
    if encrypted:
        objects.append(b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <" + b"ab" * 32
                       + b"> /U <" + b"cd" * 32 + b"> >>")
        trailer += b" /Encrypt %d 0 R /ID [<" % len(objects) + b"01" * 16 + b"> <" + b"01" * 16 + b">]"
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    output += b"trailer\n<< /Size %d " % (len(objects) + 1) + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(output)


def make_docx(*, title: str | None = "Harbour report") -> bytes:
    """A .docx with a title, two heading levels, paragraphs (one with a line break) and a table."""
    document = docx.Document()
    if title is not None:
        document.add_heading(title, 0)
    document.add_heading("Repairs", 1)
    document.add_paragraph("The harbour reopened on Monday after two years of repairs.\nShips returned at dawn.")
    table = document.add_table(rows=3, cols=3)
    for row_number, row in enumerate((("Ship", "Tonnage", "Arrived"), ("Aurora", "12,000", "Tuesday"),
                                      ("Borealis", "", "Friday"))):
        for column, value in enumerate(row):
            table.cell(row_number, column).text = value
    document.add_heading("Prices", 2)
    document.add_paragraph("Fish prices at the market fell by a third in the first week.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_DOCM_MAIN = b"application/vnd.ms-word.document.macroEnabled.main+xml"
MACRO_SOURCE = b"Sub AutoOpen()\r\n  Shell \"calc.exe\"\r\nEnd Sub\r\n"
"""Stands in for a VBA project: if a reader ever indexed or ran the macro part, the test would see it."""


def make_docm() -> bytes:
    """A macro-enabled Word file: ``make_docx`` with a ``word/vbaProject.bin`` part, its relationship
    and the macro-enabled content type, as Word writes them."""
    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            part = source.read(member)
            if member.filename == "[Content_Types].xml":
                part = part.replace(_DOCX_MAIN, _DOCM_MAIN).replace(b"</Types>", (
                    b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'))
            elif member.filename == "word/_rels/document.xml.rels":
                part = part.replace(b"</Relationships>", (
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
                    b'vbaProject" Target="vbaProject.bin"/></Relationships>'))
            target.writestr(member, part)
        target.writestr("word/vbaProject.bin", MACRO_SOURCE)
    return buffer.getvalue()
