"""Generated contradicted claims for the verifier, from train-split documents only.

``python -m training.generate_claims`` writes ``training/data/claims-generated/generated.jsonl``:
for every written claim of the train split that its evidence supports, and for every train evidence
span, copies with one fact changed (``training.perturb``: numbers, dates, names, roles,
negation, antonyms, quantifiers, ordinals), labelled ``contradicted`` with the edit as ``type`` and
``origin: "generated"`` plus the record it came from; at most ``PER_TYPE`` of each type. The written
files are never touched, and the tune and test splits stay written by hand only. Deterministic: the
random choices are seeded by the source record's id.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from training.perturb import document_names, perturb
from training.records import DATA, TrainingClaim, load_claims

GENERATED_FILES = DATA / "claims-generated"
SEED = 12
PER_TYPE = 300


def _rng(key: str) -> random.Random:
    """A generator seeded by ``key`` (and ``SEED``): the same record always gets the same edits."""
    digest = hashlib.sha256(f"{SEED}:{key}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - reproducible data, not secrecy


def generated_records(claims: Sequence[TrainingClaim], texts: Mapping[tuple[str, str], str]
                      ) -> Iterator[dict[str, object]]:
    """Generated claim records (JSON objects in the claims schema) from the train split (pure)."""
    names: dict[tuple[str, str], list[str]] = {}
    sources: list[tuple[str, str, TrainingClaim]] = []
    seen_evidence: set[tuple[str, int, int]] = set()
    for claim in claims:
        if claim.split != "train":
            continue
        if claim.label == "supported":
            sources.append((f"{claim.claim_id}", claim.claim, claim))
        key = (claim.evidence.doc_id, claim.evidence.start, claim.evidence.end)
        if key not in seen_evidence:
            seen_evidence.add(key)
            sources.append((f"{claim.claim_id}:evidence", claim.evidence.text, claim))
    for source_id, text, claim in sources:
        document = (claim.corpus, claim.evidence.doc_id)
        if document not in names:
            names[document] = document_names(texts[document])
        for number, (claim_type, edited) in enumerate(perturb(text, names[document], _rng(source_id)), 1):
            yield {"claim_id": f"g-{source_id}-{number}", "corpus": claim.corpus, "claim": edited,
                   "label": "contradicted", "type": claim_type, "origin": "generated", "source": source_id,
                   "evidence": [{"doc_id": claim.evidence.doc_id, "text": claim.evidence.text}]}


def balanced(records: Sequence[dict[str, object]], per_type: int) -> list[dict[str, object]]:
    """At most ``per_type`` records of each type, chosen by the sha256 of their id (pure): the common
    edits (negation, names) do not crowd out the rare ones (ordinals, swapped numbers)."""
    ranked = sorted(records, key=lambda record: hashlib.sha256(str(record["claim_id"]).encode()).hexdigest())
    kept: Counter[str] = Counter()
    chosen = []
    for record in ranked:
        if kept[str(record["type"])] < per_type:
            kept[str(record["type"])] += 1
            chosen.append(record)
    return sorted(chosen, key=lambda record: str(record["claim_id"]))


def main(argv: list[str] | None = None) -> int:
    """Write the generated file and print its counts per type."""
    from training.verify import CORPORA, corpus_texts

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=GENERATED_FILES / "generated.jsonl")
    parser.add_argument("--per-type", type=int, default=PER_TYPE)
    arguments = parser.parse_args(argv)
    corpora = {name: corpus_texts(name) for name in CORPORA}
    claims = load_claims(corpora)
    texts = {(corpus, doc_id): text for corpus, documents in corpora.items() for doc_id, text in documents.items()}
    records = balanced(list(generated_records(claims, texts)), arguments.per_type)
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records),
                             encoding="utf-8")
    print(json.dumps(dict(sorted(Counter(str(record["type"]) for record in records).items())), indent=1))
    print(f"{len(records)} generated claims in {arguments.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
