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
    where: str = ""
    """``file:line`` the answer was read from (for messages)."""


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
                         citations=tuple(_citation(item, where) for item in citations), question=question,
                         where=where)


def read_answers(lines: Iterable[str], *, source: str = "<answers>"
                 ) -> tuple[tuple[AnswerToCheck, ...], tuple[str, ...]]:
    """Every non-blank JSON line of ``lines`` that is a valid answer, and one ``file:line: what to
    fix`` message for each line that is not (reading goes on past a bad line)."""
    answers: list[AnswerToCheck] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        try:
            for _, where, record in json_objects((line,), source=source, error=GroundingError, first_line=number):
                answers.append(parse_answer(record, where, default_id=str(number)))
        except GroundingError as error:
            problems.append(str(error))
    return tuple(answers), tuple(problems)


def parse_answers(lines: Iterable[str], *, source: str = "<answers>") -> tuple[AnswerToCheck, ...]:
    """Every non-blank JSON line of ``lines``; ``GroundingError`` names the first bad line."""
    answers, problems = read_answers(lines, source=source)
    if problems:
        raise GroundingError(problems[0])
    return answers
