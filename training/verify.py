"""Checks training files (questions, claims): schema, every evidence span against its corpus, counts.

``python -m training.verify FILE ...`` prints one line per problem (file:line: what to fix) and a
summary of kinds; exit status 1 when any problem was found. Evidence is quoted text (an anchor):
``eval.gold.resolve_span`` places it, exactly or with whitespace runs read as one space.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from eval import EvalError, GoldSetError, TextAnchor, resolve_span
from index import json_objects
from text import STOPWORDS, split_words, stem
from training.documents import gold_documents, training_splits

REPO = Path(__file__).resolve().parent.parent
QUESTION_KINDS = frozenset({"direct", "paraphrase", "multi_doc", "unanswerable"})
QUESTION_TYPES = frozenset({"who", "when", "how_many", "why", "what_did", "how_do_i", "what", "where",
                            "which", "yes_no", "how"})
CLAIM_LABELS = {
    "supported": frozenset({"paraphrase", "summary", "reordered", "straight_quote", "possessive",
                            "hedge", "partial_quote"}),
    "contradicted": frozenset({"number_change", "number_swap", "date", "entity_swap", "role_swap",
                               "negation", "antonym", "quantifier", "ordinal", "cause_effect"}),
    "not_enough_info": frozenset({"invented_clause", "same_topic", "wrong_document"}),
}
CORPORA = ("news", "flask", "git")


def corpus_root(corpus: str) -> Path:
    """Where a corpus's files are: the news articles beside the repo, docs under var/corpora."""
    if corpus == "news":
        return Path(os.environ.get("GROUNDED_NEWS_DISTRACTORS", REPO.parent / "shared/corpora/news-distractors"))
    return REPO / "var" / "corpora" / corpus


@cache
def corpus_texts(corpus: str) -> Mapping[str, str]:
    """doc_id -> document text of one corpus, as grounded's reader reads it."""
    from ingest import read_corpus

    read = read_corpus([corpus_root(corpus)])
    return {document.doc_id: document.text for document in read.documents}


@cache
def corpus_splits(corpus: str) -> Mapping[str, str]:
    """doc_id -> split of one corpus (``training.documents.assign_splits``)."""
    return training_splits(corpus, corpus_texts(corpus), gold_documents())


def content_stems(text: str, *, drop_names: bool) -> set[str]:
    """Stems of the content words of ``text``; with ``drop_names``, capitalised words are left out."""
    words = split_words(text)
    kept = [word for index, word in enumerate(words)
            if word.lower() not in STOPWORDS and not (drop_names and index > 0 and word[:1].isupper())
            and not (drop_names and index == 0 and word[:1].isupper() and word.lower() not in STOPWORDS
                     and word.lower() != word and word[1:].lower() != word[1:])]
    return set(stem([word.lower() for word in kept]))


def shares_content_word(question: str, evidence: list[str]) -> set[str]:
    """The stems a question shares with its evidence, names (capitalised words) left out."""
    asked = content_stems(question, drop_names=True)
    said: set[str] = set()
    for text in evidence:
        said |= content_stems(text, drop_names=False)
    return asked & said


def _place(corpus: str, span: Mapping[str, object], where: str, problems: list[str]) -> str | None:
    doc_id, text = span.get("doc_id"), span.get("text")
    if not isinstance(doc_id, str) or not isinstance(text, str):
        problems.append(f"{where}: evidence needs string doc_id and text")
        return None
    document = corpus_texts(corpus).get(doc_id)
    if document is None:
        problems.append(f"{where}: unknown doc_id {doc_id!r} in corpus {corpus!r}")
        return None
    try:
        start, end = resolve_span(document, TextAnchor(doc_id=doc_id, text=text))
    except GoldSetError as error:
        problems.append(f"{where}: {doc_id}: {error}")
        return None
    if "\n" in document[start:end].strip() and corpus == "news":
        problems.append(f"{where}: {doc_id}: the span crosses a line break; quote within one paragraph")
    return document[start:end]


def check_record(record: Mapping[str, object], where: str, counts: Counter[str], problems: list[str]) -> None:
    """Check one question or claim record; add its kinds to ``counts``."""
    corpus = record.get("corpus")
    if corpus not in CORPORA:
        problems.append(f"{where}: corpus must be one of {CORPORA}")
        return
    evidence = record.get("evidence")
    if not isinstance(evidence, list):
        problems.append(f"{where}: evidence must be a list")
        return
    placed = [_place(str(corpus), span, where, problems) for span in evidence if isinstance(span, dict)]
    doc_ids = {str(span.get("doc_id")) for span in evidence if isinstance(span, dict)}
    for key in ("topic_doc_ids", "topic_doc_id"):
        value = record.get(key)
        doc_ids |= {str(item) for item in value} if isinstance(value, list) else ({str(value)} if value else set())
    splits = corpus_splits(str(corpus))
    if len({splits.get(doc_id) for doc_id in doc_ids}) > 1 or any(doc_id not in splits for doc_id in doc_ids):
        problems.append(f"{where}: its documents {sorted(doc_ids)} are in different splits "
                        f"{sorted(str(splits.get(doc_id)) for doc_id in doc_ids)}; use documents of one split")
    if "question" in record:
        kind, qtype = record.get("kind"), record.get("qtype")
        if kind not in QUESTION_KINDS:
            problems.append(f"{where}: kind must be one of {sorted(QUESTION_KINDS)}")
        if qtype not in QUESTION_TYPES:
            problems.append(f"{where}: qtype must be one of {sorted(QUESTION_TYPES)}")
        if (kind == "unanswerable") != (not evidence):
            problems.append(f"{where}: unanswerable questions, and only they, have empty evidence")
        if kind == "multi_doc" and len({span.get("doc_id") for span in evidence if isinstance(span, dict)}) < 2:
            problems.append(f"{where}: multi_doc needs evidence from two or more documents")
        if kind == "paraphrase" and all(placed):
            shared = shares_content_word(str(record["question"]), [text for text in placed if text])
            if shared:
                problems.append(f"{where}: paraphrase shares content words {sorted(shared)} with its evidence")
                counts["paraphrase_failed"] += 1
        counts[f"kind:{kind}"] += 1
        counts[f"qtype:{qtype}"] += 1
        counts["questions"] += 1
    elif "claim" in record:
        label, claim_type = record.get("label"), record.get("type")
        if label not in CLAIM_LABELS or claim_type not in CLAIM_LABELS[str(label)]:
            problems.append(f"{where}: label/type must be one of {CLAIM_LABELS}")
        if not evidence:
            problems.append(f"{where}: a claim needs its cited evidence")
        counts[f"label:{label}"] += 1
        counts[f"type:{claim_type}"] += 1
        counts["claims"] += 1
    else:
        problems.append(f"{where}: a record has either 'question' or 'claim'")


def main(argv: list[str] | None = None) -> int:
    """Verify the files named on the command line."""
    paths = [Path(arg) for arg in (argv if argv is not None else sys.argv[1:])]
    counts: Counter[str] = Counter()
    problems: list[str] = []
    for path in paths:
        try:
            for _, where, record in json_objects(path.read_text(encoding="utf-8").splitlines(), source=str(path),
                                                 error=EvalError):
                check_record(record, where, counts, problems)
        except EvalError as error:
            problems.append(f"{error} (the rest of the file was not checked)")
    for problem in problems:
        print(problem)
    print(json.dumps(dict(sorted(counts.items())), indent=1))
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
