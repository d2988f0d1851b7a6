"""``grounded bench verifier``: the claim verifier against today's rules on the held-out written claims,
and ``/check``'s latency with and without it.

Every written claim of the split (``--split test`` reports; ``--split tune`` chose the policy) goes
through the product's ``Checker`` over its corpus's index (``--claim-index news=var/idx-news`` ...),
citing its evidence span, exactly as ``/check`` would. Columns:

- ``rules``: the rules alone (the checker's ``rules_verdict``). They have no contradicted /
  not-enough-info distinction, so a claim counts as right when a supported claim is called
  supported and any other is not (``caught``).
- ``verifier``: the model's own class (3 classes) on the window it read (the cited sentences and a
  neighbour on each side).
- ``combined``: what ``/check`` answers: the model's class, made contradicted where a precise rule
  (a number or date the window does not state) fires on a claim it calls supported; 3 classes, and
  the same binary ``caught`` as the rules.

A claim the answer quotes verbatim from the cited text is not sent to the model (the text says it);
those count with the rules' verdict in every column. ``policies`` compares the combinations the
tune split chose between. Latency: ``Checker.check`` (what ``POST /check`` runs on a query thread)
on a three-sentence answer with three citations, rules only and with the verifier, alternating.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from grounding.checker import Checker
from grounding.records import Citation, Label, SentenceCheck
from grounding.verifier import PRECISE_REASONS, model_label, precise_reasons
from grounding.verifier_model import load_verifier
from index.load import load_index
from index.query_encoder import load_query_encoder

POLICIES: dict[str, frozenset[str]] = {
    "verifier alone": frozenset(),
    "+ numbers, dates (served)": PRECISE_REASONS,
    "+ numbers, dates, names, negation": PRECISE_REASONS | {"entity_missing", "negation_flip"},
}
TARGET_CLASS, TARGET_TYPE, TARGET_PARAPHRASE = 0.90, 0.85, 0.90


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimOutcome:
    """One written claim through the checker: gold, the rules' call, and each policy's label."""

    claim_id: str
    gold: str
    claim_type: str
    rules_supported: bool
    verifier: Label
    policies: dict[str, Label]


def _claim_label(checks: Sequence[SentenceCheck], codes: frozenset[str] | None) -> Label:
    """A claim's label from its sentences: contradicted if any is, else not_enough_info if any is.

    ``codes`` None: the model's own class; else the class after rules of those codes overrule it.
    """
    labels: list[Label] = []
    for check in checks:
        reading = check.verifier
        if reading is None:  # a verbatim quote, or nothing cited: the rules' call
            rules_said = {reason.code for reason in check.reasons}
            labels.append("supported" if check.verdict == "supported"
                          else "contradicted" if rules_said & PRECISE_REASONS else "not_enough_info")
            continue
        label = model_label(reading.probabilities)
        if codes is not None and label == "supported" and precise_reasons(check.text, reading.window.text, codes):
            label = "contradicted"
        labels.append(label)
    return "contradicted" if "contradicted" in labels else "not_enough_info" if "not_enough_info" in labels \
        else "supported"


def outcome(claim_id: str, gold: str, claim_type: str, checks: Sequence[SentenceCheck]) -> ClaimOutcome:
    """The record of one claim's checks (pure)."""
    return ClaimOutcome(
        claim_id=claim_id, gold=gold, claim_type=claim_type,
        rules_supported=all((check.rules_verdict or check.verdict) == "supported" for check in checks),
        verifier=_claim_label(checks, None),
        policies={name: _claim_label(checks, codes) for name, codes in POLICIES.items()})


def accuracy_table(outcomes: Sequence[ClaimOutcome], policy: str) -> dict[str, dict[str, float | int]]:
    """Per class and per claim type: claims, rules caught, verifier and combined (3-class), combined caught."""
    groups: dict[str, list[ClaimOutcome]] = {}
    for item in outcomes:
        for key in (f"class:{item.gold}", f"type:{item.claim_type}", "all"):
            groups.setdefault(key, []).append(item)

    def share(items: list[ClaimOutcome], right: Any) -> float:
        return round(sum(bool(right(item)) for item in items) / len(items), 4)

    return {key: {"claims": len(items),
                  "rules": share(items, lambda item: item.rules_supported == (item.gold == "supported")),
                  "verifier": share(items, lambda item: item.verifier == item.gold),
                  "combined": share(items, lambda item: item.policies[policy] == item.gold),
                  "combined_caught": share(items, lambda item: (item.policies[policy] == "supported")
                                           == (item.gold == "supported"))}
            for key, items in sorted(groups.items())}


def policy_table(outcomes: Sequence[ClaimOutcome]) -> dict[str, dict[str, float]]:
    """Each policy's 3-class accuracy per class and the worst claim type (the tune split's choice)."""
    table = {}
    for name in POLICIES:
        rows = accuracy_table(outcomes, name)
        types = [row["combined"] for key, row in rows.items() if key.startswith("type:")]
        table[name] = {**{key.removeprefix("class:"): float(row["combined"]) for key, row in rows.items()
                          if key.startswith("class:")},
                       "all": float(rows["all"]["combined"]), "worst_type": float(min(types))}
    return table


def run_verifier_bench(*, indexes: Mapping[str, Path], split: str, verifier_folder: Path | None,
                       latency_runs: int = 40) -> dict[str, Any]:
    """Check every written claim of ``split`` whose corpus has an index, then time /check's checker."""
    from training.records import load_claims
    from training.verify import corpus_texts

    verifier = load_verifier(verifier_folder)
    corpora = {name: corpus_texts(name) for name in indexes}
    claims = [claim for claim in load_claims(corpora) if claim.split == split]
    outcomes: list[ClaimOutcome] = []
    latency: dict[str, Any] = {}
    for corpus, folder in indexes.items():
        index = load_index(folder)
        # What POST /check encodes claims with: the service's query encoder (ONNX Runtime, one thread).
        embedder = load_query_encoder(index.manifest, threads=1)
        checker = Checker(index, embedder.encode, verifier=verifier)
        chosen = [claim for claim in claims if claim.corpus == corpus]
        for claim in chosen:
            citation = _citation(index.documents[claim.evidence.doc_id].text, claim.evidence.doc_id,
                                 claim.evidence.text, claim.evidence.start)
            result = checker.check(claim.claim, [citation])
            outcomes.append(outcome(claim.claim_id, claim.label, claim.claim_type, result.sentences))
        if corpus == "news":
            supported = [claim for claim in chosen if claim.label == "supported" and claim.claim_type == "paraphrase"]
            latency = time_check(index, embedder.encode, verifier, supported[:3], latency_runs)
    served = "+ numbers, dates (served)"
    return {"split": split, "claims": len(outcomes), "verifier": verifier.name,
            "per_class_and_type": accuracy_table(outcomes, served), "policies": policy_table(outcomes),
            "served_policy": served, "latency": latency,
            "targets": {"class": TARGET_CLASS, "type": TARGET_TYPE, "paraphrase": TARGET_PARAPHRASE}}


def _citation(text: str, doc_id: str, quote: str, start: int) -> Citation:
    """The evidence span in the index's text of the document (its offsets, or the quote found again)."""
    if text[start:start + len(quote)] != quote:
        start = text.find(quote)
    if start < 0:
        raise ValueError(f"{doc_id}: the index's text does not hold the claim's evidence; rebuild the index "
                         "from the corpus the claims were written for")
    return Citation(doc_id=doc_id, start_char=start, end_char=start + len(quote))


def time_check(index: Any, encode: Any, verifier: Any, claims: Sequence[Any], runs: int) -> dict[str, Any]:
    """p50/p95 of ``Checker.check`` on one answer of three claims citing their three spans."""
    answer = " ".join(claim.claim for claim in claims)
    citations = [_citation(index.documents[claim.evidence.doc_id].text, claim.evidence.doc_id,
                           claim.evidence.text, claim.evidence.start) for claim in claims]
    checkers = {"rules only": Checker(index, encode), "with verifier": Checker(index, encode, verifier=verifier)}
    timings: dict[str, list[float]] = {name: [] for name in checkers}
    for checker in checkers.values():
        checker.check(answer, citations)  # warm: caches, ONNX Runtime's first run
    for _ in range(runs):
        for name, checker in checkers.items():
            started = time.perf_counter()
            checker.check(answer, citations)
            timings[name].append((time.perf_counter() - started) * 1000)
    return {"answer_sentences": len(claims), "citations": len(citations), "runs": runs,
            **{name: {"p50_ms": round(float(np.percentile(values, 50)), 2),
                      "p95_ms": round(float(np.percentile(values, 95)), 2)} for name, values in timings.items()}}


def verifier_tables(result: Mapping[str, Any]) -> str:
    """The Markdown tables of one run."""
    rows = result["per_class_and_type"]
    lines = [f"{result['claims']} written claims of the {result['split']} split; verifier {result['verifier']}; "
             f"combined = {result['served_policy']}.", "",
             "| claims (n) | rules, caught | verifier, 3-class | combined, 3-class | combined, caught |",
             "|---|---:|---:|---:|---:|"]
    for key, row in rows.items():
        lines.append(f"| {key} ({row['claims']}) | {row['rules']:.3f} | {row['verifier']:.3f} | "
                     f"{row['combined']:.3f} | {row['combined_caught']:.3f} |")
    lines += ["", "| policy | supported | contradicted | not_enough_info | all | worst type |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, row in result["policies"].items():
        lines.append(f"| {name} | {row.get('supported', 0):.3f} | {row.get('contradicted', 0):.3f} | "
                     f"{row.get('not_enough_info', 0):.3f} | {row['all']:.3f} | {row['worst_type']:.3f} |")
    latency = result.get("latency") or {}
    if latency:
        lines += ["", f"/check's checker, {latency['answer_sentences']} sentences, {latency['citations']} "
                  f"citations, {latency['runs']} runs each, alternating:", "", "| path | p50 ms | p95 ms |",
                  "|---|---:|---:|"]
        lines += [f"| {name} | {latency[name]['p50_ms']} | {latency[name]['p95_ms']} |"
                  for name in ("rules only", "with verifier")]
    paraphrase = rows.get("type:paraphrase", {}).get("combined_caught")
    if paraphrase is not None:
        lines += ["", f"Faithful paraphrases supported: {paraphrase:.3f} (target {TARGET_PARAPHRASE})."]
    return "\n".join(lines)
