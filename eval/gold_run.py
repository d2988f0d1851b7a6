"""The gold run, written once: verify the gold set against the index -> resolve its spans -> ask every
question in every ablation configuration -> score.

``grounded eval --index`` (``eval.cli``) and each setting of ``grounded eval`` (``eval.suite``) run
exactly this sequence; they differ only in how they report a gold set that does not match, which
``GoldMismatchError`` leaves to them, and in the runner (the CLI's draws a progress bar).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eval.errors import EvalError
from eval.gold import GoldQuestion, resolve_gold, verify_gold
from eval.records import EvalResult, NamedConfig, QueryOutcome, Question
from eval.runner import ablation_configs, run_queries
from eval.scoring import score_gold
from service import QueryEngine

MODE_CONFIGS = frozenset({"sparse", "dense"})
"""Rows kept beside the served one by ``--configurations modes``."""

RunQueries = Callable[[QueryEngine, Sequence[Question], Sequence[NamedConfig]], list[QueryOutcome]]
"""Asks every question in every configuration (``eval.runner.run_queries`` or a wrapper of it)."""


class GoldMismatchError(EvalError):
    """The gold set's spans do not match the index's documents; ``problems`` lists each one."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(f"the gold set does not match the index ({len(problems)} problems)")
        self.problems = tuple(problems)


def abstention_threshold(engine: QueryEngine) -> float:
    """The threshold the engine abstains below: the reader's when one is loaded, else the rules'."""
    ranking = engine.config.ranking
    return ranking.rerank.min_score if engine.reader is not None else ranking.answer.min_score


def run_gold(engine: QueryEngine, questions: Sequence[GoldQuestion], *, configurations: str = "all",
             run: RunQueries = run_queries) -> EvalResult:
    """The engine's ablation configurations over the gold ``questions``, scored.

    ``configurations`` is ``all`` (every ablation row) or ``modes`` (served, sparse, dense: a third
    of the queries, for the CI gate). Raises ``GoldMismatchError`` before asking anything when a
    span does not match its document.
    """
    index = engine.index
    texts = {doc_id: document.text for doc_id, document in index.documents.items()}
    problems = verify_gold(questions, texts)
    if problems:
        raise GoldMismatchError(problems)
    resolved = resolve_gold(questions, texts)
    configs = ablation_configs(engine.config.ranking.retrieval)
    if configurations == "modes":
        configs = tuple(config for config in configs if config.is_default or config.name in MODE_CONFIGS)
    outcomes = run(engine, resolved, configs)
    return score_gold(
        outcomes, resolved, configs,
        chunks=[(chunk.chunk_id, chunk.doc_id, chunk.start, chunk.end) for chunk in index.chunks],
        documents=index.documents, threshold=abstention_threshold(engine),
        index_version=index.index_version, model_id=index.manifest.model_id)
