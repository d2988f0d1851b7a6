"""The claim checker's rules on the written claims: accuracy per label and per claim type.

Every (claim, cited evidence, label) triple of ``training/data/claims`` in one split (``test`` by
default: the held-out figures) is judged by ``grounding.pairs.judge_pair``, with the cosine of
the two texts' vectors from the default model (``--embedder hashing`` for a quick run).

    python -m bench.perf.claim_rules [--split test] [--embedder hashing] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from grounding.pairs import LABELS, judge_pair
from ingest.embedding import HashingEmbedder, load_embedder
from training.records import load_claims
from training.verify import CORPORA, corpus_texts


def accuracy_table(rows: Sequence[tuple[str, str, str]]) -> dict[str, tuple[int, int]]:
    """``(gold label, claim type, predicted label)`` rows -> ``{"label:X" | "type:X": (right, total)}`` (pure)."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for gold, claim_type, predicted in rows:
        for key in ("all", f"label:{gold}", f"type:{gold}/{claim_type}"):
            total[key] += 1
            right[key] += int(gold == predicted)
    return {key: (right[key], total[key]) for key in sorted(total)}


def main(argv: list[str] | None = None) -> int:
    """Judge every claim of one split and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="test", choices=("train", "tune", "test"))
    parser.add_argument("--embedder", default=None, help="model name or path; 'hashing' for the test embedder")
    parser.add_argument("--out", type=Path, default=None, help="write every judgement as JSON lines here")
    arguments = parser.parse_args(argv)
    claims = [claim for claim in load_claims({name: corpus_texts(name) for name in CORPORA})
              if claim.split == arguments.split]
    embedder = HashingEmbedder() if arguments.embedder == "hashing" else load_embedder(arguments.embedder)
    claim_vectors = embedder.encode([claim.claim for claim in claims])
    evidence_vectors = embedder.encode([claim.evidence.text for claim in claims])
    cosines = np.einsum("ij,ij->i", claim_vectors, evidence_vectors).tolist()
    judgements = [judge_pair(claim.claim, claim.evidence.text, cosine)
                  for claim, cosine in zip(claims, cosines, strict=True)]
    rows = [(claim.label, claim.claim_type, judgement.label)
            for claim, judgement in zip(claims, judgements, strict=True)]
    confusion = Counter((gold, predicted) for gold, _, predicted in rows)
    print(f"{len(claims)} claims of the {arguments.split} split; rows: gold label, columns: the rules' label")
    print(f"{'':18}" + "".join(f"{label:>18}" for label in LABELS))
    for gold in LABELS:
        print(f"{gold:18}" + "".join(f"{confusion[gold, predicted]:>18}" for predicted in LABELS))
    print(f"\n{'':36}{'right':>7}{'total':>7}{'accuracy':>10}")
    for key, (right, total) in accuracy_table(rows).items():
        print(f"{key:36}{right:>7}{total:>7}{right / total:>10.3f}")
    if arguments.out is not None:
        with arguments.out.open("w", encoding="utf-8") as handle:
            for claim, judgement in zip(claims, judgements, strict=True):
                handle.write(json.dumps({"claim_id": claim.claim_id, "label": claim.label, "type": claim.claim_type,
                                         "predicted": judgement.label, "score": round(judgement.score, 4),
                                         "reasons": [reason.message for reason in judgement.reasons]}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
