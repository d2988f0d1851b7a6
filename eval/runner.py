"""The benchmark run: questions through the engine under each ablation configuration.

``run_queries`` is the only function of ``eval`` that touches the engine; what follows it is pure
and works on typed records (``eval.records``), so the scoring (``eval.scoring``) is tested on
hand-made outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from eval.grounding import CheckAnswer, answer_grounded, citation_problems, supported_share
from eval.records import DEPTH, NamedConfig, QueryOutcome, Question, RetrievedPassage
from ranking import RetrievalConfig
from service import Query, QueryEngine, QueryResult

ALPHA_SWEEP = (0.3, 0.7)
"""Extra convex-fusion weights of dense scores tried beside the default alpha."""


def describe(config: RetrievalConfig) -> str:
    """A short name: ``sparse``, ``dense``, ``hybrid-rrf``, ``hybrid-convex-0.5``, ``hybrid-maxz-0.5``,
    ``+rescore``."""
    name: str = config.mode
    if config.mode == "hybrid":
        name += {"rrf": "-rrf", "convex": f"-convex-{config.alpha:g}",
                 "max_z": f"-maxz-{config.peak_weight:g}"}[config.fusion]
    return name + ("+rescore" if config.rescore else "")


def ablation_configs(default: RetrievalConfig,
                     alphas: Sequence[float] = ALPHA_SWEEP) -> tuple[NamedConfig, ...]:
    """Sparse, dense, each hybrid fusion with and without the second stage, an alpha sweep.

    Every row keeps the default's other knobs (candidates, sentence weight, de-crowding), so a
    row differs from the default only in what its name says. The row equal to the default is
    marked; if none is, the default is added as its own row.
    """
    variants = [replace(default, mode="sparse", rescore=False),
                replace(default, mode="dense", rescore=False)]
    for rescore in (False, True):
        variants.append(replace(default, mode="hybrid", fusion="max_z", rescore=rescore))
        variants.append(replace(default, mode="hybrid", fusion="rrf", rescore=rescore))
        for alpha in sorted({0.5, *alphas}):
            variants.append(replace(default, mode="hybrid", fusion="convex", alpha=alpha,
                                    rescore=rescore))
    configs = [NamedConfig(name=describe(variant), retrieval=variant, is_default=variant == default)
               for variant in variants]
    if not any(config.is_default for config in configs):
        name = describe(default)
        if any(config.name == name for config in configs):
            name = f"default ({name})"
        configs.append(NamedConfig(name=name, retrieval=default, is_default=True))
    return tuple(configs)


# ------------------------------------------------------------------------------------ running

def run_queries(engine: QueryEngine, questions: Sequence[Question],
                configs: Sequence[NamedConfig], *, depth: int = DEPTH,
                on_query: Callable[[], None] | None = None) -> list[QueryOutcome]:
    """Ask every question under every configuration (cache off), ``depth`` passages each.

    The engine's passages are its first-stage candidates after rescoring and de-crowding, so a
    list may be shorter than ``depth``. ``on_query`` is called after each question (progress).
    """
    texts = {doc_id: document.text for doc_id, document in engine.index.documents.items()}
    outcomes: list[QueryOutcome] = []
    for config in configs:
        for question in questions:
            query = Query(question=question.question, top_k=depth, mode=config.retrieval.mode)
            result = engine.query(query, retrieval=config.retrieval, use_cache=False)
            outcomes.append(to_outcome(config.name, question, result, texts, check=engine.check))
            if on_query is not None:
                on_query()
    return outcomes


def to_outcome(config: str, question: Question, result: QueryResult,
               document_texts: Mapping[str, str], *, check: CheckAnswer | None = None) -> QueryOutcome:
    """The engine's result as an outcome record, every passage and citation checked (and, given
    ``check``, every answer sentence through the grounding checker)."""
    checked, problems = citation_problems(result, document_texts)
    return QueryOutcome(
        config=config, query_id=question.query_id, question=question.question, kind=question.kind,
        passages=tuple(
            RetrievedPassage(chunk_id=passage.chunk_id, doc_id=passage.doc_id, start=passage.start,
                             end=passage.end, score=passage.score,
                             excerpt=" ".join(passage.text.split())[:80])
            for passage in result.passages),
        answer=result.answer, abstention_reason=result.abstention_reason,
        answer_score=result.answer_score, citations_checked=checked,
        citation_problems=tuple(problems), grounded=answer_grounded(result, document_texts),
        supported_share=supported_share(result, check) if check is not None else None,
    )
