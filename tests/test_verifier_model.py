"""The shipped claim verifier: card, hashes, offline loading, and the CI gate on the held-out claims."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from grounding.errors import VerifierModelError
from grounding.verifier import Verification, combine, model_label, precise_reasons
from grounding.verifier_model import DEFAULT_VERIFIER, OnnxClaimVerifier, load_verifier, verify_verifier_folder
from ingest.model_card import CARD_NAME
from tests.support.paths import NEWS_DISTRACTORS

# Floors of the served policy's 3-class accuracy on the test split's written claims, each read with
# its evidence window (`grounded bench verifier` measures the same through the indexes). Each is
# the figure measured for verifier-minilm-v2 less two binomial standard errors, rounded down:
# supported 0.784 of 394 -> 0.74, contradicted 0.762 of 307 -> 0.71, not_enough_info 0.886 of
# 237 -> 0.84, paraphrases supported 0.539 of 76 -> 0.42. Noise does not cross them; the previous
# verifier (contradicted 0.658, not_enough_info 0.819 read this way) or a broken quantisation does.
# docs/models.md, "The claim verifier".
FLOORS = {"supported": 0.74, "contradicted": 0.71, "not_enough_info": 0.84, "paraphrase_supported": 0.42}


def test_the_shipped_verifier_has_a_complete_card_and_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    from grounded.cli import main

    card = verify_verifier_folder(DEFAULT_VERIFIER)
    assert card.name == "grounded-verifier-minilm" and "all-MiniLM-L6-v2" in card.base_model
    assert set(card.sha256) == {"model.onnx", "tokenizer.json"}
    assert card.data["sha256"] and card.data["split"].startswith("by document")
    assert card.figures["labels"] == ["supported", "contradicted", "not_enough_info"]
    assert card.figures["int8_fidelity"]["same_class"] >= 0.95
    assert card.training["command"].startswith("make train-verifier")
    assert main(["models", "list"]) == 0
    assert f"{DEFAULT_VERIFIER.name}\tgrounded-verifier-minilm@2\tclaim verifier" in capsys.readouterr().out


def test_a_damaged_or_foreign_folder_is_refused_with_the_fix(tmp_path: Path) -> None:
    copy = tmp_path / "verifier"
    shutil.copytree(DEFAULT_VERIFIER, copy)
    (copy / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(VerifierModelError, match="restore it"):
        load_verifier(copy)
    card = json.loads((DEFAULT_VERIFIER / CARD_NAME).read_text(encoding="utf-8"))
    card["figures"]["labels"] = ["yes", "no"]
    shutil.copyfile(DEFAULT_VERIFIER / "tokenizer.json", copy / "tokenizer.json")
    (copy / CARD_NAME).write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(VerifierModelError, match="not a claim verifier"):
        load_verifier(copy)


@pytest.fixture(scope="module")
def shipped() -> OnnxClaimVerifier:
    return load_verifier()


@pytest.mark.slow
def test_the_shipped_verifier_reads_plain_cases(shipped: OnnxClaimVerifier) -> None:
    evidence = "The restoration cost four million euros. Most of the money came from a regional heritage fund."
    changed, other = shipped.verify([("The restoration cost nine million euros.", evidence),
                                     ("The mayor opened a new airport in the town last week.", evidence)])
    assert changed.label == "contradicted" and other.label == "not_enough_info"
    assert abs(sum(changed.probabilities) - 1.0) < 1e-3 and shipped.name == "grounded-verifier-minilm@2"
    # v1 read both of these as contradicted (any difference from the evidence); docs/models.md.
    paraphrase, verbatim, swapped = shipped.verify([
        ("A regional heritage fund paid for most of the restoration.", evidence),
        ("Most of the money came from a regional heritage fund.", evidence),
        ("A national lottery paid for most of the restoration.", evidence)])
    assert paraphrase.label == "supported" and verbatim.label == "supported" and swapped.label == "contradicted"


@pytest.mark.slow
@pytest.mark.skipif(not NEWS_DISTRACTORS.is_dir(), reason=f"{NEWS_DISTRACTORS} is absent")
def test_held_out_claims_stay_above_their_floors(shipped: OnnxClaimVerifier, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CI gate: the served policy on every written test-split claim (about 940)."""
    monkeypatch.setenv("GROUNDED_NEWS_DISTRACTORS", str(NEWS_DISTRACTORS))
    from training.records import load_claims
    from training.verifier import claim_rows
    from training.verify import CORPORA, corpus_root, corpus_texts

    corpora = {name: corpus_texts(name) for name in CORPORA if name == "news" or corpus_root(name).is_dir()}
    texts = {(corpus, doc_id): text for corpus, documents in corpora.items() for doc_id, text in documents.items()}
    rows = claim_rows(list(load_claims(corpora)), "test", texts, window_share=1.0)
    readings = [reading for start in range(0, len(rows), 32)
                for reading in shipped.verify([(row[0], row[1]) for row in rows[start:start + 32]])]
    right: dict[str, list[bool]] = defaultdict(list)
    for (claim, window, gold, claim_type), reading in zip(rows, readings, strict=True):
        served = Verification(label=model_label(reading.probabilities), probabilities=reading.probabilities,
                              model=reading.model)
        label = combine(served, precise_reasons(claim, window))
        gold_label = ("supported", "contradicted", "not_enough_info")[gold]
        right[gold_label].append(label == gold_label)
        if claim_type == "paraphrase":
            right["paraphrase_supported"].append(label == "supported")
    measured = {key: sum(values) / len(values) for key, values in right.items()}
    assert all(measured[key] >= floor for key, floor in FLOORS.items()), measured
