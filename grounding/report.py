"""The ``grounded check`` report: per-sentence verdicts and aggregates, as JSON and Markdown (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from grounding.answers import AnswerToCheck
from grounding.records import LABELS, VERDICTS, CheckResult, SentenceCheck


def sentence_json(check: SentenceCheck) -> dict[str, Any]:
    """One sentence in the ``POST /check`` response shape (the verifier's fields only where it ran)."""
    body: dict[str, Any] = {
        "text": check.text, "start": check.start, "end": check.end, "verdict": check.verdict,
        "score": check.score, "evidence": asdict(check.evidence) if check.evidence else None,
        "reasons": [{"code": reason.code, "message": reason.message} for reason in check.reasons]}
    if check.rules_verdict is not None:
        body["rules_verdict"] = check.rules_verdict
    if check.verifier is not None:
        reading = check.verifier
        body["verifier"] = {"label": reading.label, "model": reading.model, "window": asdict(reading.window),
                            "probabilities": dict(zip(LABELS, reading.probabilities, strict=True))}
    if check.disagreement is not None:
        body["disagreement"] = check.disagreement
    return body


def aggregate(results: Sequence[CheckResult]) -> dict[str, Any]:
    """Supported share, verdict counts, reason counts and citation validity over all answers."""
    sentences = [check for result in results for check in result.sentences]
    verdicts = Counter(check.verdict for check in sentences)
    reasons = Counter(reason.code for check in sentences for reason in check.reasons)
    cited = [check for check in sentences if check.verdict != "no_citation"]
    misplaced = sum(any(r.code in ("citation_range_mismatch", "uncited_source") for r in check.reasons)
                    for check in cited)
    return {"answers": len(results), "sentences": len(sentences),
            "supported_share": verdicts["supported"] / len(sentences) if sentences else 1.0,
            "verdicts": {verdict: verdicts[verdict] for verdict in VERDICTS},
            "reasons": dict(sorted(reasons.items())),
            "citation_validity": 1.0 - misplaced / len(cited) if cited else 1.0,
            "disagreements": sum(check.disagreement is not None for check in sentences)}


def report_json(answers: Sequence[AnswerToCheck], results: Sequence[CheckResult],
                problems: Sequence[str] = ()) -> dict[str, Any]:
    """The whole report: aggregate, every answer's sentences, and the lines that could not be checked."""
    return {"aggregate": aggregate(results),
            "answers": [{"id": answer.answer_id, "supported_share": result.supported_share,
                         "sentences": [sentence_json(check) for check in result.sentences]}
                        for answer, result in zip(answers, results, strict=True)],
            "problems": list(problems)}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report_markdown(answers: Sequence[AnswerToCheck], results: Sequence[CheckResult],
                    problems: Sequence[str] = ()) -> str:
    """The report for people: aggregate table, the lines not checked, then one table per answer."""
    summary = aggregate(results)
    lines = ["# Grounding check", "",
             f"{summary['answers']} answers, {summary['sentences']} sentences; supported share "
             f"{summary['supported_share']:.3f}; citation validity {summary['citation_validity']:.3f}; "
             f"verifier and rules disagree on {summary['disagreements']}.", ""]
    if problems:
        lines += [f"{len(problems)} line(s) could not be checked:", "",
                  *(f"- {_cell(problem)}" for problem in problems), ""]
    lines += ["| verdict | sentences |", "|---|---:|"]
    lines += [f"| {verdict} | {count} |" for verdict, count in summary["verdicts"].items()]
    if summary["reasons"]:
        lines += ["", "| reason | sentences |", "|---|---:|"]
        lines += [f"| {code} | {count} |" for code, count in summary["reasons"].items()]
    for answer, result in zip(answers, results, strict=True):
        lines += ["", f"## {answer.answer_id} (supported share {result.supported_share:.2f})", "",
                  "| sentence | verdict | rules | verifier | score | evidence | reasons |",
                  "|---|---|---|---|---:|---|---|"]
        for check in result.sentences:
            evidence = (f"{check.evidence.doc_id}:{check.evidence.start_char}-{check.evidence.end_char}"
                        if check.evidence else "")
            reasons = "; ".join([*(f"{r.code}: {r.message}" for r in check.reasons),
                                 *([check.disagreement] if check.disagreement else [])])
            reading = check.verifier
            verifier = (f"{reading.label} ({reading.probabilities[LABELS.index(reading.label)]:.2f})"
                        if reading else "")
            lines.append(f"| {_cell(check.text)} | {check.verdict} | {check.rules_verdict or check.verdict} | "
                         f"{verifier} | {check.score:.2f} | {evidence} | {_cell(reasons)} |")
    return "\n".join(lines) + "\n"
