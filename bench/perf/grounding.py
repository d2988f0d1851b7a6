"""The grounding checker's own benchmark: faithful against rule-corrupted answers from gold spans.

For every gold evidence span: faithful answers (the span verbatim, and a light rewording that keeps
every fact) and corrupted ones (a number changed, a date moved, a name swapped for another name of
the corpus, a negation added or removed, a true sentence of another document cited in the span's
place). Every answer cites the span's range. An answer is flagged when any of its sentences is
``unsupported``. Thresholds are chosen on the ``tune`` questions and reported on ``test``.

    python -m bench.perf.grounding --index DIR [--gold eval/data/gold.jsonl] [--out FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from eval.bootstrap import bootstrap_ci
from eval.gold import EvidenceSpan, GoldQuestion, load_gold, resolve_gold
from grounding.checker import Checker
from grounding.facts import _DATE, _NUMBER, _NUMBER_WORD, extract_names
from grounding.records import Citation, Thresholds
from index.load import load_index
from index.searcher import Index
from ingest.embedding import load_embedder

KINDS = ("number", "date", "entity", "negation", "wrong_document")
FAITHFUL = "faithful"
_REWORDINGS = (("says", "said"), ("said", "stated"), ("told", "informed"), ("because", "since"),
               ("wants", "would like"), ("big", "large"), ("more than", "over"), ("also", "as well"),
               ("however", "though"), ("about", "around"), ("announced", "said"), ("began", "started"))
_AUXILIARY = re.compile(r"\b(is|was|are|were|will|has|have|had|can|could|would|should|did|does)\b(?! not)")
_NEGATED = re.compile(r"\b(?:not|never) |n[’']t\b")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One answer to check: a faithful or corrupted text citing one gold span."""

    query_id: str
    split: str
    kind: str
    text: str
    citation: Citation


def reword(text: str) -> str | None:
    """The span with light fact-keeping substitutions; None when no rule applies."""
    changed = text
    for old, new in _REWORDINGS:
        changed = re.sub(rf"\b{old}\b", new, changed, count=1)
    return changed if changed != text else None


def change_number(text: str) -> str | None:
    """The first number that is not part of a date, changed (7 -> 8, 45 -> 52, "two" -> "three")."""
    date_spans = [match.span() for match in _DATE.finditer(text)]
    for match in _NUMBER.finditer(text):
        if any(start <= match.start() < end for start, end in date_spans):
            continue
        group = "value" if match.group("value") else "joined"
        start = match.start(group)
        # A score or range ("7-5") changes its first part.
        digits = match.group("value") or re.match(r"\d+", match.group("joined")).group()  # type: ignore[union-attr]
        value = float(digits.replace(",", ""))
        changed = value + 1 if value < 10 else round(value * 1.15) + 1
        new = f"{int(changed):,}" if "," in digits else (str(int(changed)) if "." not in digits
                                                           else f"{changed + 0.5:.{len(digits.split('.')[1])}f}")
        return text[:start] + new + text[start + len(digits):]
    spelled = _NUMBER_WORD.search(text)
    if spelled:
        word = spelled.group("word")
        position = _NUMBER_WORDS.index(word.lower()) if word.lower() in _NUMBER_WORDS else 0
        new = _NUMBER_WORDS[(position + 1) % len(_NUMBER_WORDS)]
        return text[:spelled.start("word")] + (new.capitalize() if word[0].isupper() else new) \
            + text[spelled.end("word"):]
    return None


def move_date(text: str) -> str | None:
    """The first year moved by one, else the first month or weekday moved to the next."""
    match = re.search(r"\b(1[89]\d\d|20\d\d)\b", text)
    if match:
        return text[:match.start()] + str(int(match.group()) + 1) + text[match.end():]
    for names in (_MONTHS, _WEEKDAYS):
        pattern = re.compile(r"\b(" + "|".join(names) + r")\b")
        for found in pattern.finditer(text):
            if found.group() == "May" and not re.match(r"\s+\d", text[found.end():]):
                continue
            new = names[(names.index(found.group()) + 1) % len(names)]
            return text[:found.start()] + new + text[found.end():]
    return None


def swap_name(text: str, names: Sequence[str], rng: random.Random) -> str | None:
    """A capitalised name of the span replaced by another name of the corpus the span lacks."""
    lowered = text.lower()
    own = [" ".join(word.capitalize() if not word.isupper() else word for word in name)
           for name in sorted(extract_names(text))]
    present = [name for name in own if re.search(rf"\b{re.escape(name)}\b", text)]
    if not present:
        return None
    target = present[0]
    choices = [name for name in names if name.lower() not in lowered
               and not any(word in lowered.split() for word in name.lower().split())]
    if not choices:
        return None
    return re.sub(rf"\b{re.escape(target)}\b", rng.choice(choices), text, count=1)


def flip_negation(text: str) -> str | None:
    """A negation removed when the span has one, else "not" added after the first auxiliary."""
    match = _NEGATED.search(text)
    if match:
        return text[:match.start()] + text[match.end():]
    auxiliary = _AUXILIARY.search(text)
    if auxiliary:
        return text[:auxiliary.end()] + " not" + text[auxiliary.end():]
    return None


def corpus_names(index: Index) -> list[str]:
    """Capitalised single-word names of the corpus (persons, countries, places) seen at least twice."""
    counts: dict[str, int] = {}
    for sentence in index.sentences:
        for name in extract_names(sentence.text):
            if len(name) == 1 and len(name[0]) > 3:
                counts[name[0]] = counts.get(name[0], 0) + 1
    return sorted(word.capitalize() for word, count in counts.items() if count >= 2)


def build_items(questions: Sequence[GoldQuestion], index: Index, *, seed: int = 0) -> list[Item]:
    """Faithful and corrupted answers for every gold evidence span."""
    rng = random.Random(seed)  # noqa: S311 -- seeded test data, not secrets
    names = corpus_names(index)
    items: list[Item] = []
    for question in questions:
        for span in question.evidence:
            citation = Citation(doc_id=span.doc_id, start_char=span.start, end_char=span.end)

            def add(kind: str, text: str | None, question: GoldQuestion = question,
                    citation: Citation = citation) -> None:
                if text is not None:
                    items.append(Item(query_id=question.query_id, split=question.split or "test", kind=kind,
                                      text=text, citation=citation))

            add(FAITHFUL, span.text)
            add(FAITHFUL, reword(span.text))
            add("number", change_number(span.text))
            add("date", move_date(span.text))
            add("entity", swap_name(span.text, names, rng))
            add("negation", flip_negation(span.text))
            add("wrong_document", _other_sentence(index, span, rng))
    return items


def _other_sentence(index: Index, span: EvidenceSpan, rng: random.Random) -> str | None:
    others = [sentence.text for sentence in index.sentences
              if sentence.doc_id != span.doc_id and len(sentence.text) >= 60]
    return rng.choice(others) if others else None


def _memoised(encode: Callable[[Sequence[str]], npt.NDArray[np.float32]]
              ) -> Callable[[Sequence[str]], npt.NDArray[np.float32]]:
    cache: dict[str, npt.NDArray[np.float32]] = {}

    def cached(texts: Sequence[str]) -> npt.NDArray[np.float32]:
        missing = [text for text in dict.fromkeys(texts) if text not in cache]
        if missing:
            cache.update(zip(missing, encode(missing), strict=True))
        return np.stack([cache[text] for text in texts]).astype(np.float32)

    return cached


def flags(checker: Checker, items: Sequence[Item]) -> list[bool]:
    """Whether any sentence of each item is ``unsupported``."""
    return [any(check.verdict == "unsupported" for check in checker.check(item.text, [item.citation]).sentences)
            for item in items]


def _precision_interval(positive: Sequence[bool], negative: Sequence[bool], *, resamples: int = 2000,
                        seed: int = 0) -> tuple[float, float, float]:
    """Precision of the flag over a pool of corrupted (positive) and faithful (negative) items,
    with a stratified bootstrap interval."""
    pos, neg = np.asarray(positive, dtype=float), np.asarray(negative, dtype=float)

    def precision(p: npt.NDArray[np.float64], n: npt.NDArray[np.float64]) -> float:
        flagged = p.sum() + n.sum()
        return float(p.sum() / flagged) if flagged else 1.0

    rng = np.random.default_rng(seed)
    values = [precision(rng.choice(pos, len(pos)), rng.choice(neg, len(neg))) for _ in range(resamples)]
    return precision(pos, neg), float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def score(items: Sequence[Item], flagged: Sequence[bool]) -> dict[str, Any]:
    """Per kind: recall (corrupted) or flagged share (faithful) with intervals, and precision."""
    faithful = [flag for item, flag in zip(items, flagged, strict=True) if item.kind == FAITHFUL]
    result: dict[str, Any] = {}
    interval = bootstrap_ci([float(flag) for flag in faithful])
    result[FAITHFUL] = {"n": len(faithful), "flagged": interval.mean, "low": interval.low, "high": interval.high}
    for kind in KINDS:
        caught = [flag for item, flag in zip(items, flagged, strict=True) if item.kind == kind]
        if not caught:
            continue
        recall = bootstrap_ci([float(flag) for flag in caught])
        precision, low, high = _precision_interval(caught, faithful)
        result[kind] = {"n": len(caught), "recall": recall.mean, "recall_low": recall.low,
                        "recall_high": recall.high, "precision": precision, "precision_low": low,
                        "precision_high": high}
    return result


def _objective(scores: dict[str, Any]) -> float:
    """Tuning goal: catch corruptions while flagging at most 5 % of faithful answers."""
    caught = [scores[kind]["recall"] for kind in KINDS if kind in scores]
    flagged = float(scores[FAITHFUL]["flagged"])
    return float(np.mean(caught)) - 10.0 * max(0.0, flagged - 0.05) - 0.01 * flagged


def tune(index: Index, encode: Callable[[Sequence[str]], npt.NDArray[np.float32]],
         items: Sequence[Item]) -> Thresholds:
    """The thresholds that maximise ``_objective`` on ``items`` over a small grid (ties keep the
    shipped defaults, which are tried first)."""
    best: tuple[float, Thresholds] | None = None
    grid = [Thresholds()] + [Thresholds(supported=supported, partial=partial, found=found)
                             for supported, partial, found in itertools.product(
                                 (0.6, 0.7, 0.8), (0.3, 0.4, 0.5), (0.6, 0.7, 0.8, 0.9)) if partial < supported]
    for thresholds in grid:
        value = _objective(score(items, flags(Checker(index, encode, thresholds), items)))
        if best is None or value > best[0]:
            best = (value, thresholds)
    assert best is not None
    return best[1]


def format_markdown(results: dict[str, Any]) -> str:
    """The test-split table for docs/grounding.md."""
    scores = results["test"]
    faithful = scores[FAITHFUL]
    lines = [f"Thresholds (chosen on tune): {results['thresholds']}", "",
             "| answers (test split) | n | `unsupported` recall [95% CI] | precision [95% CI] |",
             "|---|---:|---|---|",
             f"| faithful (flagged share) | {faithful['n']} | {faithful['flagged']:.3f} "
             f"[{faithful['low']:.3f}, {faithful['high']:.3f}] | |"]
    for kind in KINDS:
        if kind in scores:
            row = scores[kind]
            lines.append(f"| {kind} | {row['n']} | {row['recall']:.3f} [{row['recall_low']:.3f}, "
                         f"{row['recall_high']:.3f}] | {row['precision']:.3f} [{row['precision_low']:.3f}, "
                         f"{row['precision_high']:.3f}] |")
    return "\n".join(lines)


def run(index_dir: Path, gold_path: Path | None, *, hashing: bool = False) -> dict[str, Any]:
    """Build items, tune thresholds on ``tune``, score ``test`` (and ``tune`` for reference)."""
    index = load_index(index_dir)
    texts = {doc_id: document.text for doc_id, document in index.documents.items()}
    questions = resolve_gold(load_gold(gold_path), texts)
    questions = tuple(q for q in questions if all(span.doc_id in texts for span in q.evidence))
    embedder = load_embedder(index.manifest.model_id, precision=index.manifest.precision, threads=None)
    encode = _memoised(embedder.encode)
    items = build_items(questions, index)
    tune_items = [item for item in items if item.split == "tune"]
    test_items = [item for item in items if item.split != "tune"]
    thresholds = tune(index, encode, tune_items)
    checker = Checker(index, encode, thresholds)
    return {"index": str(index_dir), "model": index.manifest.model_id, "gold": str(gold_path or "gold.jsonl"),
            "thresholds": {"supported": thresholds.supported, "partial": thresholds.partial,
                           "found": thresholds.found},
            "tune": score(tune_items, flags(checker, tune_items)),
            "test": score(test_items, flags(checker, test_items))}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.perf.grounding --index DIR [--gold FILE] [--out FILE]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.grounding", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="index folder of the gold set's corpus")
    parser.add_argument("--gold", type=Path, default=None, help="gold questions (default: eval/data/gold.jsonl)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    results = run(args.index, args.gold)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(format_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
