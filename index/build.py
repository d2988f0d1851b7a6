"""Building an index version from a corpus: one straight line from files to a published folder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.layout import current_version as read_current_version
from index.load import load_previous_vectors
from index.publish import publish
from index.records import IndexContent, Manifest
from ingest.chunking import split_document, token_counter
from ingest.dedup import DroppedChunk, drop_near_duplicate_chunks, mark_duplicate_lines
from ingest.embedding import Embedder, embed_with_cache
from ingest.readers import DEFAULT_MAX_BYTES, read_corpus
from ingest.records import Chunk, ChunkingParams, Document, Rejection, Sentence


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReport:
    """What an ingest run did, for the terminal and for tests."""

    manifest: Manifest
    published: bool
    documents: tuple[Document, ...]
    chunk_count: int
    sentence_count: int
    dropped_duplicates: tuple[DroppedChunk, ...]
    rejections: tuple[Rejection, ...]
    embedded_texts: int
    reused_texts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Segmented:
    """Documents cut into sentences and deduplicated chunks."""

    documents: tuple[Document, ...]
    chunks: tuple[Chunk, ...]
    sentences: tuple[Sentence, ...]
    dropped: tuple[DroppedChunk, ...]


def segment_corpus(documents: Sequence[Document], params: ChunkingParams) -> Segmented:
    """Mark repeated lines, chunk every document, drop near-duplicate chunks (pure)."""
    count = token_counter(params.encoding)
    marked = mark_duplicate_lines(documents)
    splits = [split_document(document, params, count) for document in marked]
    chunks, dropped = drop_near_duplicate_chunks([chunk for split in splits for chunk in split.chunks])
    sentences = tuple(sentence for split in splits for sentence in split.sentences)
    return Segmented(documents=marked, chunks=chunks, sentences=sentences, dropped=dropped)


def ingest(paths: Sequence[Path], index_dir: Path, embedder: Embedder, *,
           params: ChunkingParams | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
           progress: bool = False) -> IngestReport:
    """Read, clean, chunk, embed (reusing unchanged vectors) and atomically publish ``index_dir``.

    Publishing identical content is a no-op, so an unchanged corpus leaves the index byte-identical.
    Raises ``CorpusError`` before touching the index when a corpus path is unreadable.
    """
    params = params or ChunkingParams()
    corpus = read_corpus(paths, max_bytes=max_bytes)
    segmented = segment_corpus(corpus.documents, params)
    cache = load_previous_vectors(index_dir, embedder.model_id)
    texts = [chunk.text for chunk in segmented.chunks] + [s.text for s in segmented.sentences]
    vectors, embedded = embed_with_cache(embedder, texts, cache, progress=progress)
    content = IndexContent(
        documents=segmented.documents, chunks=segmented.chunks, sentences=segmented.sentences,
        chunk_vectors=vectors[: len(segmented.chunks)],
        sentence_vectors=vectors[len(segmented.chunks) :],
        model_id=embedder.model_id, dimension=embedder.dimension, precision=embedder.precision,
        chunking=params,
    )
    previous_version = read_current_version(index_dir)
    manifest = publish(index_dir, content)
    return IngestReport(
        manifest=manifest, published=manifest.index_version != previous_version,
        documents=segmented.documents, chunk_count=len(segmented.chunks),
        sentence_count=len(segmented.sentences), dropped_duplicates=segmented.dropped,
        rejections=corpus.rejections, embedded_texts=embedded, reused_texts=len(texts) - embedded,
    )
