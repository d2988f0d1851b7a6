"""Tiny hand-made index content (no ingest, no model) for the store, searcher and crash tests."""

from __future__ import annotations

import hashlib
import re

from index.records import IndexContent
from ingest.embedding import HashingEmbedder
from ingest.records import Chunk, ChunkingParams, Document, Region, Sentence

DIMENSION = 32

BASE_TEXTS = {
    "alpha": "The harbour froze in January. Ferries stopped for a week. Fishermen waited.",
    "beta": "A rare xylophone was sold at auction. The buyer paid in gold. Nobody saw him.",
    "gamma": "Rain fell on the valley. The river rose quickly! Was the bridge safe? It was.",
}
_SENTENCE = re.compile(r"[^.!?]+[.!?]")


def make_content(texts: dict[str, str] | None = None, *, dimension: int = DIMENSION,
                 model_id: str | None = None) -> IndexContent:
    """Tiny hand-made content: sentences split on .!?, chunks are overlapping sentence pairs."""
    texts = BASE_TEXTS if texts is None else texts
    embedder = HashingEmbedder(dimension)
    documents: list[Document] = []
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    for doc_id in sorted(texts):
        text = texts[doc_id]
        documents.append(Document(
            doc_id=doc_id, source=f"{doc_id}.txt", text=text, title=doc_id.title(),
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
            excluded=(Region(start=0, end=0, reason="furniture:test"),),
        ))
        spans = []
        for match in _SENTENCE.finditer(text):
            start = match.start() + len(match.group()) - len(match.group().lstrip())
            spans.append((start, match.end()))
        sentences.extend(Sentence(doc_id=doc_id, start=s, end=e, text=text[s:e]) for s, e in spans)
        for ordinal in range(max(1, len(spans) - 1)):
            first, last = spans[ordinal], spans[min(ordinal + 1, len(spans) - 1)]
            chunk_text = text[first[0]:last[1]]
            chunks.append(Chunk(
                chunk_id=f"{doc_id}#{ordinal:04d}", doc_id=doc_id, ordinal=ordinal,
                start=first[0], end=last[1], text=chunk_text, token_count=len(chunk_text.split()),
                sentence_start=ordinal, sentence_end=min(ordinal + 2, len(spans)),
            ))
    return IndexContent(
        documents=tuple(documents), chunks=tuple(chunks), sentences=tuple(sentences),
        chunk_vectors=embedder.encode([chunk.text for chunk in chunks]),
        sentence_vectors=embedder.encode([sentence.text for sentence in sentences]),
        model_id=model_id or embedder.model_id, dimension=dimension, precision="float32",
        chunking=ChunkingParams(),
    )


def variant(number: int) -> IndexContent:
    """Content that differs per ``number`` (for version switching and the crash loop)."""
    texts = dict(BASE_TEXTS)
    texts["delta"] = f"This is variant {number}. It has its own words, number {number}."
    return make_content(texts)
