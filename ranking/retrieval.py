"""Retrieval over a loaded index: first stage (dense / BM25 / fused), sentence-level second stage.

The second stage stands in for a cross-encoder (none installs offline): a passage's fused score is
combined with the similarity of its best-matching sentence to the question, which rewards a
passage that contains one sentence answering the question over one that is vaguely on topic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from index import Chunk, Hit
from ranking.config import RetrievalConfig
from ranking.fusion import convex_combination, max_z_fusion, min_max, reciprocal_rank_fusion
from ranking.records import ScoredPassage

if TYPE_CHECKING:
    from index import Index


def first_stage(index: Index, question: str, query_vector: npt.NDArray[np.float32],
                config: RetrievalConfig, rows: npt.NDArray[np.int64] | None) -> list[Hit]:
    """Candidates of the first stage, best first."""
    dense = (index.dense_search(query_vector, config.candidates, rows)
             if config.mode in ("hybrid", "dense") else [])
    sparse = (index.sparse_search(question, config.candidates, rows)
              if config.mode in ("hybrid", "sparse") else [])
    if config.mode == "dense":
        return dense
    if config.mode == "sparse":
        return sparse
    if config.fusion == "rrf":
        return reciprocal_rank_fusion([dense, sparse])
    if config.fusion == "max_z":
        # Both sides scored exactly for every candidate either side found: a row the other side
        # missed gets its real (low) score, not an arbitrary zero.
        pool = sorted({hit.row for hit in dense} | {hit.row for hit in sparse})
        if not pool:
            return []
        return max_z_fusion(pool, index.dense_scores(query_vector, pool), index.sparse_scores(question, pool),
                            config.peak_weight)
    return convex_combination(dense, sparse, config.alpha)


class SentenceSimilarities:
    """Cosines of one question with the sentences of chunks: each chunk's computed once, when first asked.

    Shared by the second stage, de-crowding and answer selection of one query, so a chunk's
    sentences are multiplied with the question only if some stage needs them, and only once (the
    same slice product each time, so every stage sees the same rounding).
    """

    def __init__(self, index: Index, query_vector: npt.NDArray[np.float32]) -> None:
        self._index = index
        self._query_vector = query_vector
        self._by_chunk: dict[int, npt.NDArray[np.float32]] = {}

    @property
    def query_vector(self) -> npt.NDArray[np.float32]:
        """The question's unit vector."""
        return self._query_vector

    @property
    def computed_chunks(self) -> int:
        """How many chunks' sentences have been compared with the question so far."""
        return len(self._by_chunk)

    def of_chunk(self, row: int) -> npt.NDArray[np.float32]:
        """Cosines of chunk ``row``'s sentences, in the order of ``index.sentence_rows(row)``."""
        similarities = self._by_chunk.get(row)
        if similarities is None:
            sentence_rows = self._index.sentence_rows(row)
            # Inner product equals cosine similarity on unit vectors.
            similarities = self._index.sentence_vectors[sentence_rows.start : sentence_rows.stop] @ self._query_vector
            self._by_chunk[row] = similarities
        return similarities

    def best(self, row: int) -> tuple[int | None, float]:
        """Chunk ``row``'s best sentence row and that sentence's cosine; ``(None, 0.0)`` without sentences."""
        similarities = self.of_chunk(row)
        if len(similarities) == 0:
            return None, 0.0
        position = int(np.argmax(similarities))
        return self._index.sentence_rows(row).start + position, float(similarities[position])


def rescore(candidates: Sequence[Hit], best: dict[int, tuple[int | None, float]],
            sentence_weight: float) -> list[ScoredPassage]:
    """Combine min-max normalised first-stage scores with best-sentence similarity (pure)."""
    first = min_max(candidates)
    sentence = min_max([Hit(row=hit.row, score=best[hit.row][1]) for hit in candidates])
    scored = [
        ScoredPassage(row=hit.row, best_sentence_row=best[hit.row][0],
                      score=(1 - sentence_weight) * first[hit.row] + sentence_weight * sentence[hit.row])
        for hit in candidates
    ]
    return sorted(scored, key=lambda passage: (-passage.score, passage.row))


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def diversify(passages: Sequence[ScoredPassage], chunks: Sequence[Chunk],
              top_k: int, max_overlap: float, max_per_document: int = 0, *,
              best_sentence: Callable[[int], int | None] | None = None,
              protected: frozenset[int] = frozenset()) -> list[ScoredPassage]:
    """The best ``top_k`` passages, demoting one that mostly repeats a passage ranked above it.

    A passage is demoted (moved below every passage that is not) when it shares more than
    ``max_overlap`` of its characters with a kept passage of the same document, or when its best
    sentence is a kept passage's best sentence: overlapping chunks of one paragraph would
    otherwise crowd the top. With ``max_per_document`` > 0, a document's passages beyond that many
    are demoted too, so a question several articles answer is answered from several of them.
    Demoted passages keep their relative order, so deep rankings still hold every candidate.
    ``best_sentence(chunk_row)``, when given, stands in for ``best_sentence_row`` and is asked only
    for passages not demoted already (what the second stage did not compute is computed lazily).
    A ``protected`` row (the passage holding the reader's best sentence) is never demoted by the
    per-document cap: the cap spreads an answer over documents, it must not cut the one that answers.
    """
    kept: list[ScoredPassage] = []
    demoted: list[ScoredPassage] = []
    kept_sentences: set[int] = set()
    per_document: dict[str, int] = {}
    for passage in passages:
        chunk = chunks[passage.row]
        if (max_per_document and per_document.get(chunk.doc_id, 0) >= max_per_document
                and passage.row not in protected):
            demoted.append(passage)
            continue
        crowded = any(
            chunks[other.row].doc_id == chunk.doc_id
            and _overlap((chunk.start, chunk.end), (chunks[other.row].start, chunks[other.row].end))
            > max_overlap * (chunk.end - chunk.start)
            for other in kept
        )
        if crowded:
            demoted.append(passage)
            continue
        sentence = passage.best_sentence_row if best_sentence is None else best_sentence(passage.row)
        if sentence is not None and sentence in kept_sentences:
            demoted.append(passage)
            continue
        kept.append(passage)
        per_document[chunk.doc_id] = per_document.get(chunk.doc_id, 0) + 1
        if sentence is not None:
            kept_sentences.add(sentence)
        if len(kept) == top_k:
            break
    return (kept + demoted)[:top_k]
