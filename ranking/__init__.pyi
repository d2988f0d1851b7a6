"""The face of ``ranking``: the names other packages import (loaded lazily; see ``__init__.py``)."""

from .config import (
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
from .errors import RankingError, ReaderModelError
from .pipeline import PHASES, Phase, QueryContext, RankingPipeline, RankingRun, RankingState, Stage
from .reader import PairScorer, join_window, sentence_pool
from .reader_model import OnnxPairScorer, load_reader, reader_folder
from .records import Answer, AnswerDecision, CandidateSentence, Citation, ScoredPassage
from .retrieval import SentenceSimilarities
from .stages import FirstStage, SentenceRescore, answer_candidates, default_stages

__all__ = [
    "PHASES",
    "AgreementConfig",
    "Answer",
    "AnswerConfig",
    "AnswerDecision",
    "CandidateSentence",
    "Citation",
    "FirstStage",
    "Knob",
    "OnnxPairScorer",
    "PairScorer",
    "Phase",
    "QueryContext",
    "RankingConfig",
    "RankingError",
    "RankingPipeline",
    "RankingRun",
    "RankingState",
    "ReaderModelError",
    "RerankConfig",
    "RetrievalConfig",
    "ScoredPassage",
    "SentenceRescore",
    "SentenceSimilarities",
    "Stage",
    "answer_candidates",
    "default_stages",
    "join_window",
    "knob_names",
    "knob_value",
    "knobs",
    "load_reader",
    "parse_value",
    "reader_folder",
    "sentence_pool",
    "with_knobs",
]
