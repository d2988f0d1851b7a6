"""Ranking: everything between a question and its ranked passages plus answer, as typed stages.

``RankingPipeline`` runs ``Stage``s over a ``QueryContext`` (``ranking.stages.default_stages`` is
the served assembly); ``RankingConfig`` holds every knob (``knobs()`` lists them with their
meaning, ``with_knobs`` sets them from text). The pipeline modules load numpy and the index's
records, the configuration does not: ``ranking.config`` is safe to import from settings.
"""

from ranking.config import (
    AgreementConfig,
    AnswerConfig,
    Knob,
    RankingConfig,
    RerankConfig,
    RetrievalConfig,
    knob_names,
    knob_value,
    knobs,
    parse_value,
    with_knobs,
)
from ranking.pipeline import PHASES, Phase, QueryContext, RankingPipeline, RankingRun, RankingState, Stage
from ranking.records import Answer, AnswerDecision, CandidateSentence, Citation, ScoredPassage

__all__ = [
    "PHASES", "AgreementConfig", "Answer", "AnswerConfig", "AnswerDecision", "CandidateSentence", "Citation",
    "Knob", "Phase", "QueryContext", "RankingConfig", "RankingPipeline", "RankingRun", "RankingState",
    "RerankConfig", "RetrievalConfig", "ScoredPassage", "Stage", "knob_names", "knob_value", "knobs",
    "parse_value", "with_knobs",
]
