"""The gold question set: records, a validating JSONL loader and a check of spans against text.

A span is either OFFSET-ANCHORED (``doc_id``, ``start``, ``end``, ``text`` with
``text == document[start:end]``) or TEXT-ANCHORED (``doc_id`` and ``text`` only), for corpora whose
extracted text changes with the reader (HTML): ``resolve_span`` finds a text anchor's offsets in
the document text, ``verify_gold`` reports anchors it cannot place, and ``resolve_gold`` turns
every anchor into an offset span once the document texts are known.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, cast, get_args

from eval.errors import GoldSetError
from index import json_objects

Kind = Literal["direct", "paraphrase", "multi_doc", "unanswerable"]
KINDS: tuple[Kind, ...] = get_args(Kind)
Split = Literal["tune", "test"]
SPLITS: tuple[Split, ...] = get_args(Split)

_QUESTION_KEYS = frozenset({"query_id", "question", "kind", "evidence"})
_OPTIONAL_QUESTION_KEYS = frozenset({"split"})
_SPAN_KEYS = frozenset({"doc_id", "start", "end", "text"})
_ANCHOR_KEYS = frozenset({"doc_id", "text"})
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceSpan:
    """A half-open character range that answers a question: ``text == document[start:end]``."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TextAnchor:
    """Evidence given by its text alone; ``resolve_span`` finds where it lies in the document."""

    doc_id: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GoldQuestion:
    """One gold question with every evidence span that answers it (none when unanswerable).

    ``anchors`` holds text-anchored spans not yet placed in their documents (``resolve_gold``
    moves them into ``evidence``); ``split`` says whether the question may tune defaults
    (``"tune"``) or only measure them (``"test"``), or is ``None`` when the file gives no split.
    """

    query_id: str
    question: str
    kind: Kind
    evidence: tuple[EvidenceSpan, ...] = ()
    anchors: tuple[TextAnchor, ...] = ()
    split: Split | None = None

    @property
    def answerable(self) -> bool:
        """True when the corpus holds at least one span that answers the question."""
        return bool(self.evidence or self.anchors)

    @property
    def doc_ids(self) -> tuple[str, ...]:
        """The distinct documents holding evidence, in order of first appearance."""
        spans: tuple[EvidenceSpan | TextAnchor, ...] = (*self.evidence, *self.anchors)
        return tuple(dict.fromkeys(span.doc_id for span in spans))


def default_gold_path() -> Path:
    """The gold set shipped as package data (``eval/data/gold.jsonl``)."""
    return Path(__file__).resolve().parent / "data" / "gold.jsonl"


def news_gold_path() -> Path:
    """The gold set over the news-distractor articles (``eval/data/gold-news.jsonl``)."""
    return Path(__file__).resolve().parent / "data" / "gold-news.jsonl"


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
    """Check every span against the documents; one message per problem, empty when all hold.

    Offset spans must match the text exactly; text anchors must occur exactly once (verbatim or
    with whitespace normalised, see ``resolve_span``).
    """
    problems: list[str] = []
    for question in questions:
        for index, anchor in enumerate(question.anchors):
            label = f"{question.query_id} anchor[{index}]"
            document = document_texts.get(anchor.doc_id)
            if document is None:
                problems.append(f"{label}: unknown doc_id {anchor.doc_id!r}")
                continue
            try:
                resolve_span(document, anchor)
            except GoldSetError as error:
                problems.append(f"{label} in {anchor.doc_id!r}: {error}")
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


def resolve_span(document: str, anchor: TextAnchor) -> tuple[int, int]:
    """The ``(start, end)`` offsets of a text anchor in ``document``.

    An exact ``str.find`` match comes first; failing that, the anchor and the document are
    compared with every run of whitespace read as one space (an HTML reader may break lines or
    double spaces differently), and the match is mapped back to offsets in the original text,
    from the anchor's first to its last non-space character. Raises ``GoldSetError`` when the
    text is not found or occurs more than once (an ambiguous anchor: quote more of the sentence).
    """
    needle = anchor.text.strip()
    if not needle:
        raise GoldSetError("the anchor text is blank")
    start = document.find(needle)
    if start >= 0:
        if document.find(needle, start + 1) >= 0:
            raise GoldSetError(f"text {needle[:40]!r} occurs more than once; quote more of it")
        return start, start + len(needle)
    normal_needle = _WHITESPACE.sub(" ", needle)
    normal_document, origins = _normalise_whitespace(document)
    position = normal_document.find(normal_needle)
    if position < 0:
        raise GoldSetError(f"text {needle[:40]!r} is not in the document, even with whitespace "
                           "normalised; copy it again from the reader's text")
    if normal_document.find(normal_needle, position + 1) >= 0:
        raise GoldSetError(f"text {needle[:40]!r} occurs more than once once whitespace is "
                           "normalised; quote more of it")
    return origins[position], origins[position + len(normal_needle) - 1] + 1


def resolve_gold(
    questions: Iterable[GoldQuestion], document_texts: Mapping[str, str]
) -> tuple[GoldQuestion, ...]:
    """The questions with every text anchor placed as an offset span (after ``verify_gold``).

    Raises ``GoldSetError`` naming the query and document of the first anchor that cannot be
    placed; run ``verify_gold`` first to see them all.
    """
    resolved: list[GoldQuestion] = []
    for question in questions:
        placed: list[EvidenceSpan] = []
        for anchor in question.anchors:
            document = document_texts.get(anchor.doc_id)
            if document is None:
                raise GoldSetError(f"{question.query_id}: unknown doc_id {anchor.doc_id!r}")
            try:
                start, end = resolve_span(document, anchor)
            except GoldSetError as error:
                raise GoldSetError(f"{question.query_id} in {anchor.doc_id!r}: {error}") from error
            placed.append(
                EvidenceSpan(doc_id=anchor.doc_id, start=start, end=end, text=document[start:end])
            )
        resolved.append(
            replace(question, evidence=(*question.evidence, *placed), anchors=())
            if placed
            else question
        )
    return tuple(resolved)


def read_document_texts(folder: Path, *, suffix: str = ".txt") -> dict[str, str]:
    """Read each ``*suffix`` file of a folder as ``{file stem: text}``, newlines untranslated."""
    texts: dict[str, str] = {}
    for path in sorted(folder.glob(f"*{suffix}")):
        # newline="" keeps \r\n as two characters, the way gold offsets were counted.
        with path.open(encoding="utf-8", newline="") as handle:
            texts[path.stem] = handle.read()
    return texts


def _normalise_whitespace(text: str) -> tuple[str, list[int]]:
    """``text`` with each whitespace run as one space, and each kept character's original index."""
    pieces: list[str] = []
    origins: list[int] = []
    cursor = 0
    for run in _WHITESPACE.finditer(text):
        pieces.append(text[cursor : run.start()])
        origins.extend(range(cursor, run.start()))
        pieces.append(" ")
        origins.append(run.start())
        cursor = run.end()
    pieces.append(text[cursor:])
    origins.extend(range(cursor, len(text)))
    return "".join(pieces), origins


def _parse_question(record: object, where: str) -> GoldQuestion:
    """One JSON value to a question, or ``GoldSetError`` saying which rule it breaks."""
    if not isinstance(record, dict):
        raise GoldSetError(f"{where}: each line must be a JSON object")
    fields = cast(dict[str, Any], record)
    _require_keys(fields, _QUESTION_KEYS, where, optional=_OPTIONAL_QUESTION_KEYS)
    query_id = _require_text(fields, "query_id", where)
    question = _require_text(fields, "question", where)
    kind = fields["kind"]
    if kind not in KINDS:
        raise GoldSetError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    raw_evidence = fields["evidence"]
    if not isinstance(raw_evidence, list):
        raise GoldSetError(f"{where}: evidence must be a list (empty for unanswerable questions)")
    spans = [
        _parse_span(span, f"{where} evidence[{index}]") for index, span in enumerate(raw_evidence)
    ]
    evidence = tuple(span for span in spans if isinstance(span, EvidenceSpan))
    anchors = tuple(span for span in spans if isinstance(span, TextAnchor))
    if (kind == "unanswerable") != (not spans):
        raise GoldSetError(
            f"{where}: a question has no evidence exactly when its kind is 'unanswerable'"
        )
    if kind == "multi_doc" and len({span.doc_id for span in spans}) < 2:
        raise GoldSetError(f"{where}: a multi_doc question needs evidence in two or more documents")
    split = fields.get("split")
    if split is not None and split not in SPLITS:
        raise GoldSetError(f"{where}: split {split!r} is not one of {', '.join(SPLITS)}")
    return GoldQuestion(
        query_id=query_id,
        question=question,
        kind=cast(Kind, kind),
        evidence=evidence,
        anchors=anchors,
        split=cast(Split | None, split),
    )


def _parse_span(record: object, where: str) -> EvidenceSpan | TextAnchor:
    """One JSON value to an offset span or (without start and end) a text anchor."""
    if not isinstance(record, dict):
        raise GoldSetError(f"{where}: each evidence span must be a JSON object")
    fields = cast(dict[str, Any], record)
    if fields.keys() == _ANCHOR_KEYS:
        text = _require_text(fields, "text", where)
        return TextAnchor(doc_id=_require_text(fields, "doc_id", where), text=text)
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


def _require_keys(
    fields: Mapping[str, object],
    expected: frozenset[str],
    where: str,
    *,
    optional: frozenset[str] = frozenset(),
) -> None:
    """Reject missing and unknown keys (an unknown key is usually a misspelt one)."""
    missing = sorted(expected - fields.keys())
    unknown = sorted(fields.keys() - expected - optional)
    if missing or unknown:
        raise GoldSetError(f"{where}: missing keys {missing}, unknown keys {unknown}")


def _require_text(fields: Mapping[str, object], key: str, where: str) -> str:
    """A non-blank string field."""
    value = fields[key]
    if not isinstance(value, str) or not value.strip():
        raise GoldSetError(f"{where}: {key} must be a non-empty string")
    return value
