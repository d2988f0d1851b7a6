"""Answers to check, read from JSON objects in the ``POST /check`` shape (pure parsing)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from grounding.errors import GroundingError
from grounding.records import Citation
from index import json_objects


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerToCheck:
    """One answer with its citations and, optionally, the question to retrieve evidence for."""

    answer_id: str
    text: str
    citations: tuple[Citation, ...]
    question: str | None


def _citation(value: object, where: str) -> Citation:
    if not isinstance(value, dict) or not {"doc_id", "start_char", "end_char"} <= value.keys():
        raise GroundingError(f"{where}: a citation is an object with doc_id, start_char and end_char")
    doc_id, start, end = value["doc_id"], value["start_char"], value["end_char"]
    if not isinstance(doc_id, str) or not isinstance(start, int) or not isinstance(end, int):
        raise GroundingError(f"{where}: doc_id must be a string, start_char and end_char integers")
    return Citation(doc_id=doc_id, start_char=start, end_char=end)


def parse_answer(record: object, where: str, default_id: str) -> AnswerToCheck:
    """One ``{"id"?, "answer": {"text", "citations"?}, "question"?}`` object."""
    if not isinstance(record, dict) or not isinstance(record.get("answer"), dict):
        raise GroundingError(f'{where}: expected {{"answer": {{"text": ..., "citations": [...]}}}}')
    answer = record["answer"]
    text = answer.get("text")
    if not isinstance(text, str):
        raise GroundingError(f"{where}: answer.text must be a string")
    citations = answer.get("citations") or []
    if not isinstance(citations, list):
        raise GroundingError(f"{where}: answer.citations must be a list")
    question = record.get("question")
    if question is not None and not isinstance(question, str):
        raise GroundingError(f"{where}: question must be a string")
    return AnswerToCheck(answer_id=str(record.get("id", default_id)), text=text,
                         citations=tuple(_citation(item, where) for item in citations), question=question)


def parse_answers(lines: Iterable[str], *, source: str = "<answers>") -> tuple[AnswerToCheck, ...]:
    """Every non-blank JSON line of ``lines``; errors name the line."""
    return tuple(parse_answer(record, where, default_id=str(number))
                 for number, where, record in json_objects(lines, source=source, error=GroundingError))
