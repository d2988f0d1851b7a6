"""Vectors of chunks and sentences: sentences pooled from their chunk's forward pass, or encoded apart.

``pooled_from_chunk`` (the default for a real model) embeds each chunk once and takes every
sentence's vector from that pass's token embeddings, so sentences cost nothing extra. A sentence
that overlapping chunks share is pooled from the first chunk (in index order) whose model window
holds it whole; a sentence in no chunk (its chunk was too short or a near-duplicate) or truncated
out of every window is encoded on its own. ``encoded`` embeds every chunk and every sentence as
separate texts (the method of indexes built before pooling; still what ``hashing:N`` uses).

A pooled vector depends on its chunk, not on the sentence's text alone, so its cache key names
the text of every chunk it could come from: an unchanged document reuses its vectors and a
re-ingest is byte-identical, while a sentence whose context changed is pooled again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from ingest.embedding import (
    Embedder,
    OnRows,
    SpanEmbedder,
    Vectors,
    embed_with_cache,
    text_key,
)
from ingest.records import Chunk, Sentence
from ingest.vector_buffer import zero_vectors

POOLED = "pooled_from_chunk"
ENCODED = "encoded"
METHODS = (POOLED, ENCODED)
# Chunks per ``encode_with_spans`` call: progress is heard at least once a batch inside it.
POOL_GROUP = 512


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where a sentence can be pooled from: a chunk row and the sentence's range inside its search text."""

    chunk_row: int
    start: int
    end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Embedded:
    """Vectors for every chunk and sentence, and how many distinct ones were computed afresh."""

    chunk_vectors: Vectors
    sentence_vectors: Vectors
    embedded: int


def default_method(embedder: Embedder) -> str:
    """``pooled_from_chunk`` for a model with token embeddings, ``encoded`` for ``hashing:N``."""
    from ingest.embedding import HashingEmbedder

    return ENCODED if isinstance(embedder, HashingEmbedder) else POOLED


def sentence_sources(chunks: Sequence[Chunk],
                     sentences: Sequence[Sentence]) -> tuple[tuple[Source, ...], ...]:
    """For each sentence, the chunks that hold it whole, in preference order (index order).

    ``chunk.sentence_start``/``sentence_end`` count the document's sentences in order; the
    sentences of one document are contiguous and sorted by start (the index order).
    """
    rows_of_document: dict[str, list[int]] = {}
    for row, sentence in enumerate(sentences):
        rows_of_document.setdefault(sentence.doc_id, []).append(row)
    sources: list[list[Source]] = [[] for _ in sentences]
    for chunk_row, chunk in enumerate(chunks):
        document_rows = rows_of_document.get(chunk.doc_id, [])
        for row in document_rows[chunk.sentence_start : chunk.sentence_end]:
            sentence = sentences[row]
            if chunk.start <= sentence.start and sentence.end <= chunk.end:
                # The encoder reads the heading path first (``Chunk.search_text``): shift past it.
                shift = len(chunk.search_text) - len(chunk.text) - chunk.start
                sources[row].append(Source(chunk_row=chunk_row, start=sentence.start + shift,
                                           end=sentence.end + shift))
    return tuple(tuple(found) for found in sources)


def sentence_keys(chunks: Sequence[Chunk], sentences: Sequence[Sentence], method: str,
                  sources: Sequence[Sequence[Source]] | None = None) -> list[str]:
    """Cache key of each sentence's vector: its text when encoded, its possible contexts when pooled.

    ``sources`` is ``sentence_sources(chunks, sentences)`` when the caller has it already.
    """
    if method == ENCODED:
        return [text_key(sentence.text) for sentence in sentences]
    if sources is None:
        sources = sentence_sources(chunks, sentences)
    chunk_keys = [text_key(chunk.search_text) for chunk in chunks]
    keys: list[str] = []
    for sentence, found in zip(sentences, sources, strict=True):
        if not found:
            keys.append(text_key(sentence.text))  # encoded on its own, like any text
            continue
        digest = hashlib.sha256(POOLED.encode("utf-8"))
        for source in found:
            digest.update(f"\n{source.start}:{source.end}:{chunk_keys[source.chunk_row]}".encode())
        keys.append(digest.hexdigest())
    return keys


def embed_texts(embedder: Embedder, chunks: Sequence[Chunk], sentences: Sequence[Sentence],
                cache: Mapping[str, Vectors], *, method: str, progress: bool = False,
                on_rows: OnRows | None = None) -> Embedded:
    """Vectors of ``chunks`` then ``sentences`` by ``method``, reusing ``cache`` where possible.

    ``on_rows`` hears rows of ``[*chunks, *sentences]`` as they finish (reused rows first), and
    may hear a row more than once.
    """
    if method not in METHODS:
        raise ValueError(f"unknown sentence vector method {method!r}; use one of {METHODS}")
    sources = sentence_sources(chunks, sentences) if method == POOLED else None
    if on_rows is not None:
        keys = ([text_key(chunk.search_text) for chunk in chunks]
                + sentence_keys(chunks, sentences, method, sources))
        on_rows([row for row, key in enumerate(keys) if key in cache])
    if method == ENCODED:
        texts = [chunk.search_text for chunk in chunks] + [sentence.text for sentence in sentences]
        vectors, embedded = embed_with_cache(embedder, texts, cache, progress=progress, on_rows=on_rows)
        return Embedded(chunk_vectors=vectors[: len(chunks)], sentence_vectors=vectors[len(chunks) :],
                        embedded=embedded)
    if not hasattr(embedder, "encode_with_spans"):
        raise ValueError(f"{embedder.model_id} cannot pool sentences; use {ENCODED!r}")
    assert sources is not None
    return _embed_pooled(cast(SpanEmbedder, embedder), chunks, sentences, sources, cache=cache,
                         on_rows=on_rows)


def _embed_pooled(embedder: SpanEmbedder, chunks: Sequence[Chunk], sentences: Sequence[Sentence],
                  sources: Sequence[Sequence[Source]], *, cache: Mapping[str, Vectors],
                  on_rows: OnRows | None) -> Embedded:
    dimension = embedder.dimension
    chunk_vectors = zero_vectors(len(chunks), dimension)
    sentence_vectors = zero_vectors(len(sentences), dimension)
    chunk_keys = [text_key(chunk.search_text) for chunk in chunks]
    keys = sentence_keys(chunks, sentences, POOLED, sources)

    missing_chunks: dict[str, list[int]] = {}
    for row, key in enumerate(chunk_keys):
        cached = cache.get(key)
        if cached is not None and cached.shape == (dimension,):
            chunk_vectors[row] = cached
        else:
            missing_chunks.setdefault(key, []).append(row)
    missing_sentences: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        cached = cache.get(key)
        if cached is not None and cached.shape == (dimension,):
            sentence_vectors[row] = cached
        else:
            missing_sentences.setdefault(key, []).append(row)

    # Chunks to run (distinct texts, first-seen order) and the spans wanted from each.
    runs: dict[str, tuple[int, list[tuple[int, int]]]] = {key: (rows[0], []) for key, rows
                                                           in missing_chunks.items()}
    for rows in missing_sentences.values():
        for source in sources[rows[0]]:
            key = chunk_keys[source.chunk_row]
            runs.setdefault(key, (source.chunk_row, []))[1].append((source.start, source.end))
    # Rows each run finishes, for progress: its chunk rows and the sentences it is first source of.
    finishes: dict[str, list[int]] = {key: list(missing_chunks.get(key, [])) for key in runs}
    for rows in missing_sentences.values():
        if sources[rows[0]]:
            first_key = chunk_keys[sources[rows[0]][0].chunk_row]
            finishes[first_key].extend(len(chunks) + row for row in rows)

    pooled: dict[tuple[str, int, int], Vectors] = {}
    run_keys = list(runs)
    for first in range(0, len(run_keys), POOL_GROUP):
        group = run_keys[first : first + POOL_GROUP]
        spans = [sorted(set(runs[key][1])) for key in group]

        def finished(positions: Sequence[int], group: list[str] = group) -> None:
            if on_rows is not None:
                on_rows([row for position in positions for row in finishes[group[position]]])

        result = embedder.encode_with_spans([chunks[runs[key][0]].search_text for key in group], spans,
                                            on_rows=finished)
        flat = 0
        for position, key in enumerate(group):
            chunk_vectors[missing_chunks.get(key, [])] = result.text_vectors[position]
            for start, end in spans[position]:
                if result.span_pooled[flat]:
                    pooled[(key, start, end)] = result.span_vectors[flat]
                flat += 1

    direct: dict[str, list[int]] = {}
    for rows in missing_sentences.values():
        for source in sources[rows[0]]:
            vector = pooled.get((chunk_keys[source.chunk_row], source.start, source.end))
            if vector is not None:
                sentence_vectors[rows] = vector
                break
        else:
            direct.setdefault(text_key(sentences[rows[0]].text), []).extend(rows)
    if direct:
        encoded = embedder.encode([sentences[rows[0]].text for rows in direct.values()])
        for rows, vector in zip(direct.values(), encoded, strict=True):
            sentence_vectors[rows] = vector
        if on_rows is not None:
            done = [len(chunks) + row for rows in direct.values() for row in rows
                    if not sources[row]]
            on_rows(done)
    return Embedded(chunk_vectors=chunk_vectors, sentence_vectors=sentence_vectors,
                    embedded=len(missing_chunks) + len(missing_sentences))
