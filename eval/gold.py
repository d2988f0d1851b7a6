"""The gold question set: records, a validating JSONL loader and a check of spans against text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

from eval.errors import GoldSetError
from eval.jsonl import json_objects

Kind = Literal["direct", "paraphrase", "multi_doc", "unanswerable"]
KINDS: tuple[Kind, ...] = get_args(Kind)

_QUESTION_KEYS = frozenset({"query_id", "question", "kind", "evidence"})
_SPAN_KEYS = frozenset({"doc_id", "start", "end", "text"})


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceSpan:
    """A half-open character range that answers a question: ``text == document[start:end]``."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldQuestion:
    """One gold question with every evidence span that answers it (none when unanswerable)."""

    query_id: str
    question: str
    kind: Kind
    evidence: tuple[EvidenceSpan, ...] = ()

    @property
    def answerable(self) -> bool:
        """True when the corpus holds at least one span that answers the question."""
        return bool(self.evidence)

    @property
    def doc_ids(self) -> tuple[str, ...]:
        """The distinct documents holding evidence, in order of first appearance."""
        return tuple(dict.fromkeys(span.doc_id for span in self.evidence))


def default_gold_path() -> Path:
    """The gold set shipped as package data (``eval/data/gold.jsonl``)."""
    return Path(__file__).resolve().parent / "data" / "gold.jsonl"


def load_gold(path: Path | str | None = None) -> tuple[GoldQuestion, ...]:
    """Read and validate a gold JSONL file (the shipped one by default).

    Raises ``GoldSetError`` naming the file and line for unreadable files, bad JSON, a schema
    violation or a repeated ``query_id``. Blank lines are ignored.
    """
    gold_path = Path(path) if path is not None else default_gold_path()
    try:
        text = gold_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise GoldSetError(f"cannot read gold file {gold_path}: {error}") from error
    return parse_gold(text.splitlines(), source=str(gold_path))


def parse_gold(lines: Iterable[str], *, source: str = "<gold>") -> tuple[GoldQuestion, ...]:
    """Validate JSONL lines into questions; ``source`` only names the input in error messages."""
    questions: list[GoldQuestion] = []
    seen: dict[str, int] = {}
    for line_number, where, record in json_objects(lines, source=source, error=GoldSetError):
        question = _parse_question(record, where)
        if question.query_id in seen:
            raise GoldSetError(
                f"{where}: query_id {question.query_id!r} already used on line "
                f"{seen[question.query_id]}; query ids must be unique"
            )
        seen[question.query_id] = line_number
        questions.append(question)
    return tuple(questions)


def verify_gold(questions: Iterable[GoldQuestion], document_texts: Mapping[str, str]) -> list[str]:
    """Check every span against the documents; one message per problem, empty when all hold."""
    problems: list[str] = []
    for question in questions:
        for index, span in enumerate(question.evidence):
            label = f"{question.query_id} evidence[{index}]"
            document = document_texts.get(span.doc_id)
            if document is None:
                problems.append(f"{label}: unknown doc_id {span.doc_id!r}")
            elif span.end > len(document):
                problems.append(
                    f"{label}: span [{span.start}, {span.end}) is out of range for "
                    f"{span.doc_id!r} of length {len(document)}"
                )
            elif document[span.start : span.end] != span.text:
                problems.append(
                    f"{label}: text mismatch in {span.doc_id!r} at [{span.start}, {span.end}): "
                    f"gold {span.text[:40]!r}, document {document[span.start : span.end][:40]!r}"
                )
    return problems


def read_document_texts(folder: Path, *, suffix: str = ".txt") -> dict[str, str]:
    """Read each ``*suffix`` file of a folder as ``{file stem: text}``, newlines untranslated."""
    texts: dict[str, str] = {}
    for path in sorted(folder.glob(f"*{suffix}")):
        # newline="" keeps \r\n as two characters, the way gold offsets were counted.
        with path.open(encoding="utf-8", newline="") as handle:
            texts[path.stem] = handle.read()
    return texts


def _parse_question(record: object, where: str) -> GoldQuestion:
    """One JSON value to a question, or ``GoldSetError`` saying which rule it breaks."""
    if not isinstance(record, dict):
        raise GoldSetError(f"{where}: each line must be a JSON object")
    fields = cast(dict[str, Any], record)
    _require_keys(fields, _QUESTION_KEYS, where)
    query_id = _require_text(fields, "query_id", where)
    question = _require_text(fields, "question", where)
    kind = fields["kind"]
    if kind not in KINDS:
        raise GoldSetError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    raw_evidence = fields["evidence"]
    if not isinstance(raw_evidence, list):
        raise GoldSetError(f"{where}: evidence must be a list (empty for unanswerable questions)")
    evidence = tuple(
        _parse_span(span, f"{where} evidence[{index}]") for index, span in enumerate(raw_evidence)
    )
    if (kind == "unanswerable") != (not evidence):
        raise GoldSetError(
            f"{where}: a question has no evidence exactly when its kind is 'unanswerable'"
        )
    if kind == "multi_doc" and len({span.doc_id for span in evidence}) < 2:
        raise GoldSetError(f"{where}: a multi_doc question needs evidence in two or more documents")
    return GoldQuestion(
        query_id=query_id, question=question, kind=cast(Kind, kind), evidence=evidence
    )


def _parse_span(record: object, where: str) -> EvidenceSpan:
    """One JSON value to a span, or ``GoldSetError``."""
    if not isinstance(record, dict):
        raise GoldSetError(f"{where}: each evidence span must be a JSON object")
    fields = cast(dict[str, Any], record)
    _require_keys(fields, _SPAN_KEYS, where)
    doc_id = _require_text(fields, "doc_id", where)
    start, end, text = fields["start"], fields["end"], fields["text"]
    # bool is an int subclass; true/false in the file is a typo, not an offset.
    if not all(type(value) is int for value in (start, end)):
        raise GoldSetError(f"{where}: start and end must be integers")
    if not 0 <= start < end:
        raise GoldSetError(f"{where}: need 0 <= start < end, got [{start}, {end})")
    if not isinstance(text, str) or len(text) != end - start:
        raise GoldSetError(f"{where}: text must be a string of length end - start ({end - start})")
    return EvidenceSpan(doc_id=doc_id, start=start, end=end, text=text)


def _require_keys(fields: Mapping[str, object], expected: frozenset[str], where: str) -> None:
    """Reject missing and unknown keys (an unknown key is usually a misspelt one)."""
    missing = sorted(expected - fields.keys())
    unknown = sorted(fields.keys() - expected)
    if missing or unknown:
        raise GoldSetError(f"{where}: missing keys {missing}, unknown keys {unknown}")


def _require_text(fields: Mapping[str, object], key: str, where: str) -> str:
    """A non-blank string field."""
    value = fields[key]
    if not isinstance(value, str) or not value.strip():
        raise GoldSetError(f"{where}: {key} must be a non-empty string")
    return value
