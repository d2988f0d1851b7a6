"""Extractive answers (pure): pick the sentences of the top passages that best answer the question.

Nothing is paraphrased: an answer is one to three indexed sentences, each cited by document and
character range. When no sentence is close enough to the question the engine abstains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ranking.answer_types import AnswerType, has_answer_type, question_answer_type
from ranking.config import AnswerConfig
from ranking.records import Answer, AnswerDecision, CandidateSentence, Citation
from text import ends_declaratively

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MARKDOWN_HEADING = re.compile(r"#{1,6}[ \t]")
_TYPE_NOUNS: dict[AnswerType, str] = {"quantity": "a number or amount", "date": "a date or time",
                                      "name": "a name"}


def is_answer_like(text: str, min_words: int) -> bool:
    """A declarative sentence: not a question, not a heading or label, long enough to say something."""
    stripped = text.rstrip()
    if stripped.endswith("?") or len(stripped.split()) < min_words or _MARKDOWN_HEADING.match(stripped):
        return False
    return ends_declaratively(stripped) or len(stripped.split()) >= 12


def numbers_in(text: str) -> frozenset[str]:
    """The numbers written in ``text`` (years, counts, amounts), as they are written."""
    return frozenset(_NUMBER.findall(text))


def term_coverage(question_terms: Mapping[str, float], terms: frozenset[str]) -> float:
    """Share of the question's term weight (idf) that a sentence contains, in [0, 1]."""
    total = sum(question_terms.values())
    if total <= 0:
        return 0.0
    return sum(weight for term, weight in question_terms.items() if term in terms) / total


def relevance(candidate: CandidateSentence, question_terms: Mapping[str, float], config: AnswerConfig) -> float:
    """Cosine similarity plus the idf-weighted share of the question's terms the sentence contains:
    how closely the sentence matches the question, the score abstention is decided on."""
    return candidate.similarity + config.lexical_weight * term_coverage(question_terms, candidate.terms)


def topic_shares(question_terms: Mapping[str, float],
                 candidates: Sequence[CandidateSentence]) -> dict[str, dict[str, float]]:
    """For each document, the share of its candidate sentences (each counted once, however many
    retrieved passages hold it) that contain each question term."""
    by_document: dict[str, dict[int, frozenset[str]]] = {}
    for candidate in candidates:
        by_document.setdefault(candidate.sentence.doc_id, {})[candidate.sentence.start] = candidate.terms
    return {doc_id: {term: sum(term in terms for terms in sentences.values()) / len(sentences)
                     for term in question_terms}
            for doc_id, sentences in by_document.items()}


def topical_coverage(question_terms: Mapping[str, float], terms: frozenset[str],
                     shares: Mapping[str, float]) -> float:
    """The part of ``term_coverage`` owed to terms the sentence's document repeats: each held term's
    weight times its share of the document's candidate sentences, over the question's total weight."""
    total = sum(question_terms.values())
    if total <= 0:
        return 0.0
    return sum(weight * shares[term] for term, weight in question_terms.items() if term in terms) / total


def sentence_score(candidate: CandidateSentence, question_terms: Mapping[str, float],
                   config: AnswerConfig, answer_type: AnswerType | None = None, question: str = "", *,
                   shares: Mapping[str, Mapping[str, float]] | None = None, reader_weight: float = 0.0) -> float:
    """``relevance``, less the ``topic_discount`` of question terms the sentence's document repeats
    (``shares``: ``topic_shares`` of the candidates), plus (when the question asks for a quantity,
    date or name) a bonus for holding one, plus its agreement with sentences of other retrieved
    documents (weights from ``config``), plus ``reader_weight`` times the trained reader's score.
    These adjustments rank candidates against each other; they
    are no evidence that the corpus answers."""
    score = relevance(candidate, question_terms, config)
    if shares is not None and config.topic_discount:
        score -= config.lexical_weight * config.topic_discount * topical_coverage(
            question_terms, candidate.terms, shares[candidate.sentence.doc_id])
    if answer_type is not None and config.type_weight and has_answer_type(candidate.sentence.text, answer_type,
                                                                          question):
        score += config.type_weight
    return score + config.agreement_weight * candidate.agreement + reader_weight * candidate.reader


def select_answer(question_terms: Mapping[str, float], candidates: Sequence[CandidateSentence],
                  config: AnswerConfig, *, required_numbers: frozenset[str] = frozenset(),
                  question: str = "", reader_weight: float = 0.0) -> AnswerDecision:
    """Choose up to ``max_sentences`` sentences scoring within ``keep_ratio`` of the best one.

    Only declarative sentences that contain every number the question names are eligible (a
    sentence without "2024" cannot say what happened in 2024). Abstains (answer None) when no
    sentence is eligible, when the best ``relevance`` (bonuses left out, so they cannot lift an
    off-topic question over the threshold) is below ``config.min_score``, or when the question asks
    for a quantity, date or name and none of the sentences within ``config.type_margin`` of the
    best relevance holds one (the passages discuss the subject but never give the asked detail). Chosen sentences are
    listed in passage-rank then document order; a sentence repeating a chosen one is skipped.
    """
    eligible = [c for c in candidates
                if c.passage_rank <= config.from_passages and is_answer_like(c.sentence.text, config.min_words)
                and required_numbers <= numbers_in(c.sentence.text)]
    if not eligible and required_numbers and candidates:
        return AnswerDecision(answer=None, best_score=0.0, abstention_reason=(
            "no retrieved sentence mentions " + ", ".join(sorted(required_numbers))
            + ", which the question asks about"))
    answer_type = question_answer_type(question)
    shares = topic_shares(question_terms, candidates) if config.topic_discount else None
    scored = sorted(
        ((sentence_score(c, question_terms, config, answer_type, question, shares=shares,
                         reader_weight=reader_weight), c) for c in eligible),
        key=lambda item: (-item[0], item[1].passage_rank, item[1].sentence.doc_id, item[1].sentence.start),
    )
    if not scored:
        return AnswerDecision(answer=None, best_score=0.0,
                              abstention_reason="no retrieved passage contains a sentence to answer from")
    top_score = scored[0][0]
    relevances = [relevance(candidate, question_terms, config) for _, candidate in scored]
    best_score = max(relevances)
    if best_score < config.min_score:
        return AnswerDecision(
            answer=None, best_score=best_score,
            abstention_reason=(f"the corpus does not seem to answer this: the closest sentence scores "
                               f"{best_score:.2f}, below the answer threshold {config.min_score:.2f}"))
    if (answer_type is not None and config.type_margin is not None
            and not any(has_answer_type(candidate.sentence.text, answer_type, question)
                        for value, (_, candidate) in zip(relevances, scored, strict=True)
                        if value >= best_score - config.type_margin)):
        return AnswerDecision(
            answer=None, best_score=best_score,
            abstention_reason=(f"the corpus does not seem to answer this: the question asks for "
                               f"{_TYPE_NOUNS[answer_type]}, and none of the sentences closest to it "
                               f"states one"))
    chosen: list[CandidateSentence] = []
    seen_texts: set[str] = set()
    for score, candidate in scored:
        if len(chosen) == config.max_sentences or score < config.keep_ratio * top_score:
            break
        key = " ".join(candidate.sentence.text.casefold().split())
        if key in seen_texts:
            continue
        seen_texts.add(key)
        chosen.append(candidate)
    chosen.sort(key=lambda c: (c.passage_rank, c.sentence.doc_id, c.sentence.start))
    citations = tuple(
        Citation(doc_id=c.sentence.doc_id, start=c.sentence.start, end=c.sentence.end,
                 text=c.sentence.text, passage_rank=c.passage_rank)
        for c in chosen
    )
    return AnswerDecision(answer=Answer(text=" ".join(c.text for c in citations), citations=citations),
                          best_score=best_score, abstention_reason=None)
