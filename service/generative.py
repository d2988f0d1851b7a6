"""Generated answers held to the checker (pure): the prompt with numbered sources, the claims to
check, and the answer the model's text becomes once every sentence has its verdict.

The model call is ``service.llm``; the checker is the engine's ``check``. A sentence the checker
does not find supported (``unsupported`` or ``no_citation``) is removed or kept and marked, by the
``llm_unsupported`` setting; a ``partially_supported`` one is kept with its verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from grounding import CheckResult, Claim, MarkedAnswer, SentenceCheck
from grounding import Citation as CitedRange
from ranking import Answer, Citation
from service.records import Passage

if TYPE_CHECKING:  # the client is imported only when a model is configured (service.llm)
    from openai.types.chat import ChatCompletionMessageParam

Unsupported = Literal["remove", "mark"]
# ``(sentence_text, citations) -> verdicts``: the engine's ``check``.
CheckClaim = Callable[[str, Sequence[CitedRange]], CheckResult]
DROPPED = frozenset({"unsupported", "no_citation"})
SYSTEM_PROMPT = (
    "You answer questions using only the numbered sources you are given. Write short declarative "
    "sentences. End every sentence with the numbers of the sources that support it, in square "
    "brackets, such as [1] or [2][3]. Never state a number, date or name that the sources do not "
    "contain. If the sources do not answer the question, say so in one sentence without brackets."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratedAnswer:
    """The answer kept after checking, its evidence citations and every sentence's verdict.

    ``sentences`` offsets index ``answer.text``; with ``remove``, only sentences that were kept.
    """

    answer: Answer
    sentences: tuple[SentenceCheck, ...]
    removed: int


def build_messages(question: str, passages: Sequence[Passage]) -> list[ChatCompletionMessageParam]:
    """The chat messages: the rules, then the sources numbered by rank, then the question."""
    sources = "\n\n".join(f"[{number}] {passage.title}\n{passage.text}"
                          for number, passage in enumerate(passages, start=1))
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Sources:\n\n{sources}\n\nQuestion: {question}"}]


def cited_ranges(claim: Claim, passages: Sequence[Passage]) -> tuple[CitedRange, ...]:
    """The passages a claim cites as ``[n]`` (1-based); numbers with no passage are ignored."""
    return tuple(CitedRange(doc_id=passages[number - 1].doc_id, start_char=passages[number - 1].start,
                            end_char=passages[number - 1].end)
                 for number in claim.sources if 1 <= number <= len(passages))


def malformed_reason(marked: MarkedAnswer, passages: Sequence[Passage]) -> str | None:
    """Why the model's text cannot be used as an answer, or None when it can."""
    if not marked.claims:
        return "the model's answer was empty"
    if not any(cited_ranges(claim, passages) for claim in marked.claims):
        return f"the model cited no source as [1]-[{len(passages)}]"
    return None


def check_claims(marked: MarkedAnswer, passages: Sequence[Passage], check: CheckClaim) -> list[CheckResult]:
    """Every claim through the checker against the passages it cites (CPU work: run off the loop)."""
    return [check(claim.text, cited_ranges(claim, passages)) for claim in marked.claims]


def assemble(marked: MarkedAnswer, checks: Sequence[CheckResult], passages: Sequence[Passage],
             unsupported: Unsupported) -> GeneratedAnswer | None:
    """The answer from the checked claims; None when nothing supported is left to say."""
    kept: list[SentenceCheck] = []
    removed = 0
    for result in checks:
        for sentence in result.sentences:
            if unsupported == "remove" and sentence.verdict in DROPPED:
                removed += 1
            else:
                kept.append(sentence)
    if not any(sentence.verdict not in DROPPED for sentence in kept):
        return None
    placed: list[SentenceCheck] = []
    position = 0
    for sentence in kept:
        start = position + (1 if placed else 0)
        placed.append(replace(sentence, start=start, end=start + len(sentence.text)))
        position = start + len(sentence.text)
    text = " ".join(sentence.text for sentence in placed)
    return GeneratedAnswer(answer=Answer(text=text, citations=_evidence_citations(placed, passages)),
                           sentences=tuple(placed), removed=removed)


def _evidence_citations(sentences: Sequence[SentenceCheck], passages: Sequence[Passage]) -> tuple[Citation, ...]:
    """The evidence spans of the answer that lie inside a retrieved passage, once each, in order."""
    citations: list[Citation] = []
    for sentence in sentences:
        evidence = sentence.evidence
        if evidence is None or sentence.verdict in DROPPED:
            continue
        rank = next((passage.rank for passage in passages if passage.doc_id == evidence.doc_id
                     and passage.start <= evidence.start_char and evidence.end_char <= passage.end), None)
        citation = Citation(doc_id=evidence.doc_id, start=evidence.start_char, end=evidence.end_char,
                            text=evidence.text, passage_rank=rank, pages=evidence.pages) if rank is not None else None
        if citation is not None and citation not in citations:
            citations.append(citation)
    return tuple(citations)
