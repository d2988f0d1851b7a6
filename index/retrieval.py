"""Retrieval over a loaded index: first stage (dense / BM25 / fused), sentence-level second stage.

The second stage stands in for a cross-encoder (none installs offline): a passage's fused score is
combined with the similarity of its best-matching sentence to the question, which rewards a
passage that contains one sentence answering the question over one that is vaguely on topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from index.fusion import convex_combination, max_z_fusion, min_max, reciprocal_rank_fusion
from index.records import Chunk, Hit, Mode

if TYPE_CHECKING:
    from index.searcher import Index

Fusion = Literal["rrf", "convex", "max_z"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrievalConfig:
    """Knobs of retrieval; the defaults are the ones the evaluation suite chose (docs/evaluation.md)."""

    mode: Mode = "hybrid"
    fusion: Fusion = "convex"
    alpha: float = 0.7
    peak_weight: float = 0.5
    rescore: bool = False
    sentence_weight: float = 0.5
    candidates: int = 50
    max_overlap: float = 0.5
    max_per_document: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoredPassage:
    """A retrieved chunk row with its final score and the sentence that matched best."""

    row: int
    score: float
    best_sentence_row: int | None


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


def best_sentences(index: Index, rows: Sequence[int],
                   query_vector: npt.NDArray[np.float32]) -> dict[int, tuple[int | None, float]]:
    """For each chunk row, its best sentence row and that sentence's cosine with the question."""
    best: dict[int, tuple[int | None, float]] = {}
    for row in rows:
        sentence_rows = index.sentence_rows(row)
        if len(sentence_rows) == 0:
            best[row] = (None, 0.0)
            continue
        # Inner product equals cosine similarity on unit vectors.
        similarities = index.sentence_vectors[sentence_rows.start : sentence_rows.stop] @ query_vector
        position = int(np.argmax(similarities))
        best[row] = (sentence_rows.start + position, float(similarities[position]))
    return best


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
              top_k: int, max_overlap: float, max_per_document: int = 0) -> list[ScoredPassage]:
    """The best ``top_k`` passages, demoting one that mostly repeats a passage ranked above it.

    A passage is demoted (moved below every passage that is not) when it shares more than
    ``max_overlap`` of its characters with a kept passage of the same document, or when its best
    sentence is a kept passage's best sentence: overlapping chunks of one paragraph would
    otherwise crowd the top. With ``max_per_document`` > 0, a document's passages beyond that many
    are demoted too, so a question several articles answer is answered from several of them.
    Demoted passages keep their relative order, so deep rankings still hold every candidate.
    """
    kept: list[ScoredPassage] = []
    demoted: list[ScoredPassage] = []
    kept_sentences: set[int] = set()
    per_document: dict[str, int] = {}
    for passage in passages:
        chunk = chunks[passage.row]
        if max_per_document and per_document.get(chunk.doc_id, 0) >= max_per_document:
            demoted.append(passage)
            continue
        crowded = any(
            chunks[other.row].doc_id == chunk.doc_id
            and _overlap((chunk.start, chunk.end), (chunks[other.row].start, chunks[other.row].end))
            > max_overlap * (chunk.end - chunk.start)
            for other in kept
        )
        if crowded or (passage.best_sentence_row is not None and passage.best_sentence_row in kept_sentences):
            demoted.append(passage)
            continue
        kept.append(passage)
        per_document[chunk.doc_id] = per_document.get(chunk.doc_id, 0) + 1
        if passage.best_sentence_row is not None:
            kept_sentences.add(passage.best_sentence_row)
        if len(kept) == top_k:
            break
    return (kept + demoted)[:top_k]


def retrieve(index: Index, question: str, query_vector: npt.NDArray[np.float32], *, top_k: int,
             config: RetrievalConfig, rows: npt.NDArray[np.int64] | None = None) -> list[ScoredPassage]:
    """The full retrieval: first stage, optional sentence-level rescoring, de-crowding."""
    candidates = first_stage(index, question, query_vector, config, rows)
    best = best_sentences(index, [hit.row for hit in candidates], query_vector)
    if config.rescore:
        scored = rescore(candidates, best, config.sentence_weight)
    else:
        scored = [ScoredPassage(row=hit.row, score=hit.score, best_sentence_row=best[hit.row][0])
                  for hit in candidates]
    return diversify(scored, index.chunks, top_k, config.max_overlap, config.max_per_document)
