"""Training records (questions, claims) as frozen dataclasses, read from the JSONL files.

Evidence in the files is quoted text (and, once ``training.verify --write-offsets`` has run, its
offsets); loading places every quote in its corpus and fails on one that is not found.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from eval import EvalError, TextAnchor, resolve_span
from index import json_objects
from training.documents import Split, gold_documents, training_splits

DATA = Path(__file__).resolve().parent / "data"
QUESTION_FILES = DATA / "questions"
CLAIM_FILES = DATA / "claims"


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """A placed evidence range: ``document[start:end] == text``."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingQuestion:
    """A written question, its kind and type, and the spans that answer it (none: unanswerable)."""

    query_id: str
    corpus: str
    question: str
    kind: str
    qtype: str
    evidence: tuple[Span, ...]
    split: Split


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingClaim:
    """A written (or generated) claim, the evidence it cites, and whether that evidence supports it."""

    claim_id: str
    corpus: str
    claim: str
    label: str
    claim_type: str
    evidence: Span
    origin: str
    split: Split


def _lines(folder: Path) -> Iterator[tuple[str, dict[str, object]]]:
    for path in sorted(folder.glob("*.jsonl")):
        for _, where, record in json_objects(path.read_text(encoding="utf-8").splitlines(), source=path.name,
                                             error=EvalError):
            yield where, record


def _place(texts: Mapping[str, str], span: Mapping[str, object]) -> Span:
    doc_id, quote = str(span["doc_id"]), str(span["text"])
    start, end = resolve_span(texts[doc_id], TextAnchor(doc_id=doc_id, text=quote))
    return Span(doc_id=doc_id, start=start, end=end, text=texts[doc_id][start:end])


def document_splits(corpora: Mapping[str, Mapping[str, str]]) -> dict[tuple[str, str], Split]:
    """(corpus, doc_id) -> split for every training document of the given corpora (the documents the
    gold sets draw on, and their duplicates, are in none)."""
    held_out = gold_documents()
    return {(corpus, doc_id): split for corpus, texts in corpora.items()
            for doc_id, split in training_splits(corpus, texts, held_out).items()}


def _one_split(splits: Mapping[tuple[str, str], Split], corpus: str, doc_ids: set[str], where: str) -> Split:
    """The one training split of a record's documents; ``ValueError`` when they are held out or differ."""
    found = {splits.get((corpus, doc_id)) for doc_id in doc_ids}
    if len(found) != 1 or None in found:
        named = sorted(str(splits.get((corpus, doc_id), "held out")) for doc_id in doc_ids)
        raise ValueError(f"{where}: its documents {sorted(doc_ids)} are in splits {named}; "
                         "a record's documents must share one training split")
    split = found.pop()
    assert split is not None
    return split


def load_questions(corpora: Mapping[str, Mapping[str, str]], folder: Path = QUESTION_FILES
                   ) -> tuple[TrainingQuestion, ...]:
    """Every training question of the given corpora, evidence placed, split from its documents
    (all in one split); raises ``ValueError`` naming the first record that breaks a rule."""
    splits = document_splits(corpora)
    questions: list[TrainingQuestion] = []
    for where, record in _lines(folder):
        corpus = str(record["corpus"])
        if corpus not in corpora:
            continue
        raw_evidence = record.get("evidence") or []
        assert isinstance(raw_evidence, list)
        evidence = tuple(_place(corpora[corpus], span) for span in raw_evidence)
        raw_topic = record.get("topic_doc_ids") or []
        assert isinstance(raw_topic, list)
        topic = [str(doc) for doc in raw_topic]
        doc_ids = {span.doc_id for span in evidence} or set(topic)
        split = _one_split(splits, corpus, doc_ids, where)
        questions.append(TrainingQuestion(
            query_id=str(record["query_id"]), corpus=corpus, question=str(record["question"]),
            kind=str(record["kind"]), qtype=str(record["qtype"]), evidence=evidence, split=split))
    return tuple(questions)


def load_claims(corpora: Mapping[str, Mapping[str, str]], folder: Path = CLAIM_FILES) -> tuple[TrainingClaim, ...]:
    """Every training claim, evidence placed, split from its documents."""
    splits = document_splits(corpora)
    claims: list[TrainingClaim] = []
    for where, record in _lines(folder):
        corpus = str(record["corpus"])
        if corpus not in corpora:
            continue
        raw_evidence = record["evidence"]
        assert isinstance(raw_evidence, list) and raw_evidence
        evidence = _place(corpora[corpus], raw_evidence[0])
        doc_ids = {evidence.doc_id}
        if record.get("topic_doc_id"):
            doc_ids.add(str(record["topic_doc_id"]))
        split = _one_split(splits, corpus, doc_ids, where)
        claims.append(TrainingClaim(
            claim_id=str(record["claim_id"]), corpus=corpus, claim=str(record["claim"]),
            label=str(record["label"]), claim_type=str(record["type"]), evidence=evidence,
            origin=str(record.get("origin", "written")), split=split))
    return tuple(claims)
