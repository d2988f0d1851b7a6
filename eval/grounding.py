"""Grounding checks: every passage and citation is the document's text at its offsets, an answer is
made only of verbatim sentences inside the passages it cites (pure), and the claim-level checker's
share of answer sentences that its citations support (``supported_share``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from eval.metrics import citation_exact
from grounding import CheckResult, Citation
from service import QueryResult

# ``(answer_text, citations) -> verdicts``: the engine's ``check`` (``grounding.Checker``).
CheckAnswer = Callable[[str, Sequence[Citation]], CheckResult]


def citation_problems(result: QueryResult,
                      document_texts: Mapping[str, str]) -> tuple[int, list[str]]:
    """Check every passage and answer citation against the document text at its offsets.

    Returns how many were checked and one message per mismatch (unknown documents included).
    """
    located = [(f"passage {passage.rank} ({passage.chunk_id})", passage.doc_id, passage.text,
                passage.start, passage.end) for passage in result.passages]
    if result.answer is not None:
        located += [(f"answer citation {number}", citation.doc_id, citation.text, citation.start,
                     citation.end) for number, citation in enumerate(result.answer.citations, 1)]
    problems = []
    for label, doc_id, text, start, end in located:
        document = document_texts.get(doc_id)
        if document is None:
            problems.append(f"{label}: unknown document {doc_id!r}")
        elif not citation_exact(text, document, start, end):
            problems.append(f"{label}: text differs from {doc_id}[{start}:{end}]")
    return len(located), problems


def answer_grounded(result: QueryResult, document_texts: Mapping[str, str]) -> bool | None:
    """True when the answer is its citations joined and each citation is verbatim inside the
    passage it cites; None when the engine abstained."""
    answer = result.answer
    if answer is None:
        return None
    if not answer.citations or answer.text != " ".join(c.text for c in answer.citations):
        return False
    for citation in answer.citations:
        if not 1 <= citation.passage_rank <= len(result.passages):
            return False
        passage = result.passages[citation.passage_rank - 1]
        document = document_texts.get(citation.doc_id)
        inside = (passage.doc_id == citation.doc_id and passage.start <= citation.start
                  and citation.end <= passage.end)
        if document is None or not inside or not citation_exact(
                citation.text, document, citation.start, citation.end):
            return False
    return True


def supported_share(result: QueryResult, check: CheckAnswer) -> float | None:
    """The checker's share of answer sentences its citations support; None when the engine abstained."""
    answer = result.answer
    if answer is None:
        return None
    citations = [Citation(doc_id=citation.doc_id, start_char=citation.start, end_char=citation.end)
                 for citation in answer.citations]
    return check(answer.text, citations).supported_share
