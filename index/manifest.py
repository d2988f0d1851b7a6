"""The JSON files of an index version: ``manifest.json`` and the record lines (``*.jsonl``).

Writing gives canonical bytes (sorted keys, UTF-8); reading validates every field and raises
``IndexCorruptedError`` naming the file and the fix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from index.errors import IndexCorruptedError
from index.jsonl import json_objects
from index.records import FORMAT_VERSION, DocumentEntry, FileEntry, Manifest
from ingest import UTF8, Chunk, ChunkingParams, CodeBlock, Document, Heading, Region, Sentence

MANIFEST_NAME = "manifest.json"
# The sentence vector method of indexes whose manifest has no ``sentence_vectors`` field.
ENCODED_SENTENCES = "encoded"


_DOCUMENT_FIELDS = tuple(field.name for field in dataclasses.fields(DocumentEntry))
_FILE_FIELDS = tuple(field.name for field in dataclasses.fields(FileEntry))


def manifest_to_json(manifest: Manifest) -> bytes:
    """Canonical JSON of a manifest: sorted keys, indent 2, trailing newline, UTF-8."""
    body = {
        "format_version": manifest.format_version,
        "index_version": manifest.index_version,
        "model_id": manifest.model_id,
        "dimension": manifest.dimension,
        "precision": manifest.precision,
        "chunking": dataclasses.asdict(manifest.chunking),
        "faiss_index": manifest.faiss_index,
        "faiss_params": dict(manifest.faiss_params),
        "bm25_params": dict(manifest.bm25_params),
        "chunk_count": manifest.chunk_count,
        "sentence_count": manifest.sentence_count,
        # Entries hold only strings and numbers: read their fields directly (``asdict`` deep-copies
        # each one, seconds for the hundred thousand documents of a million-chunk index).
        "documents": [{name: getattr(entry, name) for name in _DOCUMENT_FIELDS} for entry in manifest.documents],
        "files": {file_name: {name: getattr(entry, name) for name in _FILE_FIELDS}
                  for file_name, entry in manifest.files.items()},
    }
    if manifest.sentence_vectors != ENCODED_SENTENCES:
        body["sentence_vectors"] = manifest.sentence_vectors
    text = json.dumps(body, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def compute_index_version(manifest: Manifest) -> str:
    """The content address of a version: sha256 of the canonical manifest with an empty version.

    The manifest lists every data file's name and sha256 (sorted by name), plus the model,
    dimension and chunking parameters, so equal content gives an equal version and any change in a
    file or a setting gives a new one. No clock is involved.
    """
    unversioned = dataclasses.replace(manifest, index_version="")
    return hashlib.sha256(manifest_to_json(unversioned)).hexdigest()


def address_of_canonical(canonical: bytes, index_version: str) -> str:
    """``compute_index_version`` from a manifest's canonical bytes (``manifest_to_json``, or a
    sharded version's ``shards_manifest_to_json``) without serialising it again.

    The unversioned manifest's bytes differ from these only in the top-level ``index_version``
    value. At indent 2 a top-level key is the only one that follows a newline and exactly two
    spaces (a shard entry's own ``index_version`` is indented deeper), and string values cannot
    hold a raw newline, so the pattern below occurs once.
    """
    field = f'\n  "index_version": {json.dumps(index_version)}'.encode()
    if canonical.count(field) != 1:
        raise ValueError("canonical manifest bytes must hold their index_version exactly once")
    return hashlib.sha256(canonical.replace(field, b'\n  "index_version": ""', 1)).hexdigest()


def index_folder_of(path: Path) -> Path:
    """The index folder (``DIR``) that holds ``DIR/versions/<v>/<file>``, for fix-it messages."""
    for parent in path.parents:
        if parent.name == "versions":
            return parent.parent
    return path.parent


class FieldReader:
    """Typed access to one parsed JSON object; every failure names the file and the fix."""

    def __init__(self, value: object, where: str, path: Path) -> None:
        self._path = path
        self._where = where
        if not isinstance(value, dict):
            raise self.error(f"{where} is not a JSON object")
        self._value: dict[str, Any] = value

    @property
    def path(self) -> Path:
        """The file these fields were read from."""
        return self._path

    def error(self, problem: str) -> IndexCorruptedError:
        """An ``IndexCorruptedError`` naming the file, the problem and the fix."""
        folder = index_folder_of(self._path)
        return IndexCorruptedError(
            f"{self._path} is malformed ({problem}): re-run `grounded ingest --index {folder}`"
        )

    def keys(self, expected: set[str], *, optional: frozenset[str] | set[str] = frozenset()) -> None:
        """Require exactly the ``expected`` field names, plus any of the ``optional`` ones."""
        present = set(self._value)
        expected = expected | (present & set(optional))
        if present != expected:
            missing = sorted(expected - present)
            unknown = sorted(present - expected)
            raise self.error(f"{self._where}: missing fields {missing}, unknown fields {unknown}")

    def raw(self, name: str) -> object:
        """The field's parsed JSON value."""
        if name not in self._value:
            raise self.error(f"{self._where}: missing field {name!r}")
        return self._value[name]

    def text(self, name: str) -> str:
        """A string field."""
        value = self.raw(name)
        if not isinstance(value, str):
            raise self.error(f"{self._where}.{name} is not a string")
        return value

    def count(self, name: str) -> int:
        """A non-negative integer field."""
        value = self.raw(name)
        # bool is a subclass of int in Python; a JSON true is not a count.
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.error(f"{self._where}.{name} is not a non-negative integer")
        return value

    def child(self, name: str) -> FieldReader:
        """A nested object field."""
        return FieldReader(self.raw(name), f"{self._where}.{name}", self._path)

    def items(self) -> dict[str, Any]:
        """The whole object."""
        return self._value


def _chunking(fields: FieldReader) -> ChunkingParams:
    names = {field.name for field in dataclasses.fields(ChunkingParams)}
    fields.keys(names)
    values: dict[str, str | int] = {}
    for field in dataclasses.fields(ChunkingParams):
        is_text = isinstance(field.default, str)
        values[field.name] = fields.text(field.name) if is_text else fields.count(field.name)
    return ChunkingParams(**values)  # type: ignore[arg-type]


def _faiss_params(fields: FieldReader) -> dict[str, int]:
    return {name: fields.count(name) for name in fields.items()}


def _bm25_params(fields: FieldReader) -> dict[str, str | float]:
    params: dict[str, str | float] = {}
    for name, value in fields.items().items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise fields.error(f"bm25_params.{name} is not a string or a number")
        params[name] = value
    return params


def _documents(value: object, fields: FieldReader) -> tuple[DocumentEntry, ...]:
    if not isinstance(value, list):
        raise fields.error("documents is not a list")
    entries = []
    for position, item in enumerate(value):
        entry = FieldReader(item, f"documents[{position}]", fields.path)
        entry.keys({"doc_id", "source", "content_hash", "chunk_count"})
        entries.append(
            DocumentEntry(
                doc_id=entry.text("doc_id"),
                source=entry.text("source"),
                content_hash=entry.text("content_hash"),
                chunk_count=entry.count("chunk_count"),
            )
        )
    return tuple(entries)


def _files(fields: FieldReader) -> dict[str, FileEntry]:
    files = {}
    for name in fields.items():
        entry = fields.child(name)
        entry.keys({"sha256", "size"})
        files[name] = FileEntry(sha256=entry.text("sha256"), size=entry.count("size"))
    return files


def manifest_from_json(data: bytes, path: Path) -> Manifest:
    """Parse ``manifest.json`` bytes read from ``path``.

    Raises ``IndexCorruptedError`` naming ``path`` on invalid UTF-8/JSON, a missing, unknown or
    mistyped field, or a ``format_version`` this code does not read.
    """
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FieldReader({}, "manifest", path).error(f"not valid JSON: {error}") from error
    fields = FieldReader(value, "manifest", path)
    if fields.raw("format_version") != FORMAT_VERSION:
        raise fields.error(
            f"format_version {fields.raw('format_version')!r} is not {FORMAT_VERSION}, "
            "the only format this version of grounded reads"
        )
    names = {field.name for field in dataclasses.fields(Manifest)}
    fields.keys(names if "sentence_vectors" in fields.items() else names - {"sentence_vectors"})
    return Manifest(
        format_version=FORMAT_VERSION,
        index_version=fields.text("index_version"),
        model_id=fields.text("model_id"),
        dimension=fields.count("dimension"),
        precision=fields.text("precision"),
        chunking=_chunking(fields.child("chunking")),
        faiss_index=fields.text("faiss_index"),
        faiss_params=_faiss_params(fields.child("faiss_params")),
        bm25_params=_bm25_params(fields.child("bm25_params")),
        chunk_count=fields.count("chunk_count"),
        sentence_count=fields.count("sentence_count"),
        documents=_documents(fields.raw("documents"), fields),
        files=_files(fields.child("files")),
        sentence_vectors=(fields.text("sentence_vectors") if "sentence_vectors" in fields.items()
                          else ENCODED_SENTENCES),
    )


# Record lines: documents.jsonl, chunks.jsonl, sentences.jsonl. Chunk and sentence texts are not
# stored; they are re-derived from the document text, which is the single source every offset
# points into.

def _json_line(value: dict[str, object]) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    ) + b"\n"


def _document_fields(document: Document) -> dict[str, object]:
    fields: dict[str, object] = {
        "doc_id": document.doc_id,
        "source": document.source,
        "title": document.title,
        "content_hash": document.content_hash,
        "text": document.text,
        "excluded": [dataclasses.asdict(region) for region in document.excluded],
    }
    if document.headings:  # only HTML has headings and code blocks; plain-text indexes keep their bytes
        fields["headings"] = [dataclasses.asdict(heading) for heading in document.headings]
    if document.code_blocks:
        fields["code_blocks"] = [dataclasses.asdict(block) for block in document.code_blocks]
    # Written only when there are pages (PDF) or the encoding is not UTF-8: every other document's
    # line, and so every index built before them, keeps its bytes.
    if document.pages:
        fields["pages"] = list(document.pages)
    if document.encoding != UTF8:
        fields["encoding"] = document.encoding
    return fields


def documents_to_jsonl(documents: tuple[Document, ...]) -> bytes:
    """One JSON object per document: ids, title, hash, full text, excluded regions, headings, code
    blocks and page starts (if any), the encoding (if not UTF-8)."""
    return b"".join(_json_line(_document_fields(document)) for document in documents)


def _chunk_fields(chunk: Chunk) -> dict[str, object]:
    fields: dict[str, object] = {
        "chunk_id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "ordinal": chunk.ordinal,
        "start": chunk.start,
        "end": chunk.end,
        "token_count": chunk.token_count,
        "sentence_start": chunk.sentence_start,
        "sentence_end": chunk.sentence_end,
    }
    if chunk.context:  # the heading path BM25 and the encoder read; plain text has none
        fields["context"] = chunk.context
    return fields


def chunks_to_jsonl(chunks: tuple[Chunk, ...]) -> bytes:
    """One JSON object per chunk: every field except the text (``context`` only when not empty)."""
    return b"".join(_json_line(_chunk_fields(chunk)) for chunk in chunks)


def sentences_to_jsonl(sentences: tuple[Sentence, ...]) -> bytes:
    """One JSON object per sentence: ``doc_id``, ``start``, ``end``."""
    return b"".join(
        _json_line({"doc_id": sentence.doc_id, "start": sentence.start, "end": sentence.end})
        for sentence in sentences
    )


def _jsonl_objects(data: bytes, path: Path, first_line: int = 1) -> list[FieldReader]:
    """Parse newline-terminated JSON lines (split on ``\\n`` only: texts may hold U+2028).

    ``first_line`` is the number of ``data``'s first line in its file (for the error messages).
    """
    malformed = FieldReader({}, path.name, path).error
    lines = data.split(b"\n")
    if lines[-1] != b"":
        raise malformed("the last line is not newline-terminated")
    return [FieldReader(value, f"line {number}", path)
            for number, _, value in json_objects(lines[:-1], source=path.name, error=malformed,
                                                 first_line=first_line, skip_blank=False)]


def documents_from_jsonl(data: bytes, path: Path, first_line: int = 1) -> tuple[Document, ...]:
    """Parse ``documents.jsonl`` (or its lines from number ``first_line`` on); raises
    ``IndexCorruptedError`` naming ``path``."""
    documents = []
    for fields in _jsonl_objects(data, path, first_line):
        fields.keys({"doc_id", "source", "title", "content_hash", "text", "excluded"},
                    optional={"headings", "code_blocks", "pages", "encoding"})
        excluded = fields.raw("excluded")
        if not isinstance(excluded, list):
            raise fields.error("excluded is not a list")
        regions = []
        for item in excluded:
            region = FieldReader(item, "excluded region", path)
            region.keys({"start", "end", "reason"})
            regions.append(Region(
                start=region.count("start"), end=region.count("end"), reason=region.text("reason")
            ))
        documents.append(Document(
            doc_id=fields.text("doc_id"),
            source=fields.text("source"),
            title=fields.text("title"),
            content_hash=fields.text("content_hash"),
            text=fields.text("text"),
            excluded=tuple(regions),
            headings=_headings(fields, path),
            code_blocks=_code_blocks(fields, path),
            pages=_pages(fields),
            encoding=fields.text("encoding") if "encoding" in fields.items() else UTF8,
        ))
    return tuple(documents)


def _pages(fields: FieldReader) -> tuple[int, ...]:
    """A document's page starts (absent for documents without pages): increasing offsets from 0."""
    if "pages" not in fields.items():
        return ()
    listed = fields.raw("pages")
    text_length = len(fields.text("text"))
    if (not isinstance(listed, list) or not listed or listed[0] != 0
            or any(isinstance(start, bool) or not isinstance(start, int) for start in listed)
            or any(later < earlier for earlier, later in itertools.pairwise(listed)) or listed[-1] > text_length):
        raise fields.error("pages is not a list of increasing page starts from 0 within the text")
    return tuple(listed)


def _code_blocks(fields: FieldReader, path: Path) -> tuple[CodeBlock, ...]:
    """A document's ``code_blocks`` (absent in plain-text documents and in indexes built before them)."""
    if "code_blocks" not in fields.items():
        return ()
    listed = fields.raw("code_blocks")
    if not isinstance(listed, list):
        raise fields.error("code_blocks is not a list")
    blocks = []
    for item in listed:
        block = FieldReader(item, "code block", path)
        block.keys({"start", "end"})
        blocks.append(CodeBlock(start=block.count("start"), end=block.count("end")))
    return tuple(blocks)


def _headings(fields: FieldReader, path: Path) -> tuple[Heading, ...]:
    """A document's ``headings`` (absent in plain-text documents and in indexes built before them)."""
    if "headings" not in fields.items():
        return ()
    listed = fields.raw("headings")
    if not isinstance(listed, list):
        raise fields.error("headings is not a list")
    headings = []
    for item in listed:
        heading = FieldReader(item, "heading", path)
        heading.keys({"start", "end", "level"})
        headings.append(Heading(start=heading.count("start"), end=heading.count("end"),
                                level=heading.count("level")))
    return tuple(headings)


def _span(fields: FieldReader, text_of: Mapping[str, str]) -> tuple[str, int, int, str]:
    """``(doc_id, start, end, text)`` with the offsets checked against the document text."""
    doc_id = fields.text("doc_id")
    start, end = fields.count("start"), fields.count("end")
    if doc_id not in text_of:
        raise fields.error(f"unknown doc_id {doc_id!r}")
    if not start <= end <= len(text_of[doc_id]):
        raise fields.error(f"offsets [{start}, {end}) lie outside document {doc_id!r}")
    return doc_id, start, end, text_of[doc_id][start:end]


def chunks_from_jsonl(data: bytes, path: Path, text_of: Mapping[str, str]) -> tuple[Chunk, ...]:
    """Parse ``chunks.jsonl``, re-deriving each text from ``text_of[doc_id]``."""
    chunks = []
    for fields in _jsonl_objects(data, path):
        fields.keys({"chunk_id", "doc_id", "ordinal", "start", "end", "token_count",
                     "sentence_start", "sentence_end"}, optional={"context"})
        doc_id, start, end, text = _span(fields, text_of)
        chunks.append(Chunk(
            chunk_id=fields.text("chunk_id"),
            doc_id=doc_id,
            ordinal=fields.count("ordinal"),
            start=start,
            end=end,
            text=text,
            token_count=fields.count("token_count"),
            sentence_start=fields.count("sentence_start"),
            sentence_end=fields.count("sentence_end"),
            context=fields.text("context") if "context" in fields.items() else "",
        ))
    return tuple(chunks)


def sentences_from_jsonl(data: bytes, path: Path,
                         text_of: Mapping[str, str]) -> tuple[Sentence, ...]:
    """Parse ``sentences.jsonl``, re-deriving each text from ``text_of[doc_id]``."""
    sentences = []
    for fields in _jsonl_objects(data, path):
        fields.keys({"doc_id", "start", "end"})
        doc_id, start, end, text = _span(fields, text_of)
        sentences.append(Sentence(doc_id=doc_id, start=start, end=end, text=text))
    return tuple(sentences)
