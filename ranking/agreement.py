"""Cross-document agreement of candidate answer sentences (pure numpy over sentence vectors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ranking.records import CandidateSentence, ScoredPassage

if TYPE_CHECKING:
    from index import Index


def with_agreement(index: Index, candidates: Sequence[CandidateSentence], passages: Sequence[ScoredPassage],
                   limit: int, neighbours: int) -> list[CandidateSentence]:
    """Each candidate with its support from other documents: the mean cosine of its ``neighbours``
    closest candidates from other retrieved documents (0 if none)."""
    rows = [row for scored in passages[:limit] for row in index.sentence_rows(scored.row)]
    vectors = index.sentence_vectors[rows]
    similarities = vectors @ vectors.T
    doc_ids = np.asarray([index.sentences.doc_id(row) for row in rows])
    other = doc_ids[:, None] != doc_ids[None, :]
    closest = -np.sort(-np.where(other, similarities, np.nan), axis=1)[:, :neighbours]
    counts = np.sum(~np.isnan(closest), axis=1)
    support = np.where(counts > 0, np.nansum(closest, axis=1) / np.maximum(counts, 1), 0.0)
    return [replace(candidate, agreement=max(0.0, float(value)))
            for candidate, value in zip(candidates, support, strict=True)]
