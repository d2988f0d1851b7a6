"""Building an index version from a corpus: one straight line from files to a published folder."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.layout import current_version as read_current_version
from index.load import load_previous_vectors
from index.publish import publish
from index.records import IndexContent, Manifest
from index.shard_publish import publish_sharded
from ingest import (
    DEFAULT_MAX_BYTES,
    Chunk,
    ChunkingParams,
    CorpusRead,
    Document,
    DroppedChunk,
    Embedded,
    Embedder,
    Progress,
    Rejection,
    RowTracker,
    Sentence,
    SplitDocument,
    StageLines,
    default_method,
    drop_near_duplicate_chunks,
    embed_texts,
    mark_duplicate_lines,
    open_progress,
    read_corpus,
    split_document,
    token_counter,
)


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


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelIdentity:
    """What the manifest records about the model a version is embedded with (no model needed)."""

    model_id: str
    dimension: int
    precision: str
    default_method: str
    """The sentence-vector method the model gets when none is asked for (``ingest.sentence_vectors``)."""

    @classmethod
    def of(cls, embedder: Embedder) -> ModelIdentity:
        """The identity of a loaded embedder."""
        return cls(model_id=embedder.model_id, dimension=embedder.dimension, precision=embedder.precision,
                   default_method=default_method(embedder))


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """A corpus read, cut and embedded: everything the next version is made of, and how."""

    corpus: CorpusRead
    segmented: Segmented
    embedded: Embedded
    model: ModelIdentity
    params: ChunkingParams
    sentence_method: str


_QUIET = StageLines(None)


def segment_corpus(documents: Sequence[Document], params: ChunkingParams, *,
                   stages: StageLines = _QUIET) -> Segmented:
    """Mark repeated lines, chunk every document, drop near-duplicate chunks (pure but for
    ``stages``, which reports each step of a long run)."""
    count = token_counter(params.encoding)
    with stages.stage("marking repeated lines"):
        marked = mark_duplicate_lines(documents)
    splits: list[SplitDocument] = []
    with stages.stage("chunking", total=len(marked)) as done:
        for document in marked:
            splits.append(split_document(document, params, count))
            done.advance()
    return combine_splits(marked, splits, stages=stages)


def combine_splits(marked: Sequence[Document], splits: Sequence[SplitDocument], *,
                   stages: StageLines = _QUIET) -> Segmented:
    """Documents and their splits (in document order) as one Segmented, near-duplicates dropped (pure)."""
    with stages.stage("near-duplicate chunks"):
        chunks, dropped = drop_near_duplicate_chunks([chunk for split in splits for chunk in split.chunks])
    sentences = tuple(sentence for split in splits for sentence in split.sentences)
    return Segmented(documents=tuple(marked), chunks=chunks, sentences=sentences, dropped=dropped)


def _open_progress(progress: bool | Progress, segmented: Segmented) -> Progress:
    """The reporter ``progress`` asks for: stderr (a bar on a terminal, lines otherwise) when True."""
    if not isinstance(progress, bool):
        return progress
    return open_progress(sys.stderr if progress else None,
                         documents_total=len(segmented.documents),
                         texts_total=len(segmented.chunks) + len(segmented.sentences))


def ingest(paths: Sequence[Path], index_dir: Path, embedder: Embedder, *,
           params: ChunkingParams | None = None, max_bytes: int = DEFAULT_MAX_BYTES,
           progress: bool | Progress = False, sentence_method: str | None = None,
           shards: int | None = None) -> IngestReport:
    """Read, clean, chunk, embed (reusing unchanged vectors) and atomically publish ``index_dir``.

    ``sentence_method`` is ``pooled_from_chunk`` or ``encoded`` (``ingest.sentence_vectors``; None:
    the embedder's default). ``shards`` N publishes N shards (``index.shard_publish``; None: the
    unsharded format). ``progress`` True reports on stderr. Publishing identical content is a
    no-op, so an unchanged corpus leaves the index byte-identical. Raises ``CorpusError`` before
    touching the index when a corpus path is unreadable.
    """
    params = params or ChunkingParams()
    model = ModelIdentity.of(embedder)
    method = sentence_method or model.default_method
    stages = StageLines(sys.stderr if progress is True else None)
    with stages.stage("reading", unit="files") as read:
        corpus = read_corpus(paths, max_bytes=max_bytes, on_file=read.advance)
    segmented = segment_corpus(corpus.documents, params, stages=stages)
    cache = load_previous_vectors(index_dir, model.model_id)
    reporter = _open_progress(progress, segmented)
    tracker = RowTracker([chunk.doc_id for chunk in segmented.chunks]
                         + [sentence.doc_id for sentence in segmented.sentences], reporter)
    tracker.count_empty([document.doc_id for document in segmented.documents])
    try:
        embedded = embed_texts(embedder, segmented.chunks, segmented.sentences, cache, method=method,
                               on_rows=tracker.finish)
    finally:
        reporter.close()
    built = Built(corpus=corpus, segmented=segmented, embedded=embedded, model=model, params=params,
                  sentence_method=method)
    return publish_ingest(index_dir, built, shards=shards, stages=stages)


def publish_ingest(index_dir: Path, built: Built, *, shards: int | None = None,
                   stages: StageLines = _QUIET) -> IngestReport:
    """Publish ``built`` atomically as the next version of ``index_dir`` and report it: the one publish
    path of ``ingest`` and ``index.ray_build.ray_ingest``.

    With ``shards`` N, as one sharded version of N shards (``index.shard_publish.publish_sharded``).
    """
    segmented, embedded, model = built.segmented, built.embedded, built.model
    content = IndexContent(
        documents=segmented.documents, chunks=segmented.chunks, sentences=segmented.sentences,
        chunk_vectors=embedded.chunk_vectors, sentence_vectors=embedded.sentence_vectors,
        model_id=model.model_id, dimension=model.dimension, precision=model.precision,
        chunking=built.params, sentence_method=built.sentence_method,
    )
    with stages.stage("publishing"):
        previous_version = read_current_version(index_dir)
        manifest = publish(index_dir, content) if shards is None else publish_sharded(index_dir, content, shards)
    texts = len(segmented.chunks) + len(segmented.sentences)
    return IngestReport(
        manifest=manifest, published=manifest.index_version != previous_version,
        documents=segmented.documents, chunk_count=len(segmented.chunks),
        sentence_count=len(segmented.sentences), dropped_duplicates=segmented.dropped,
        rejections=built.corpus.rejections, embedded_texts=embedded.embedded,
        reused_texts=texts - embedded.embedded,
    )
