"""Every ranking knob in one frozen configuration, each with its default and a one-line meaning.

``RankingConfig`` holds the sections (``retrieval``, ``answer``, ``agreement``); ``knobs()`` lists
every knob as ``section.name`` with its type, default and meaning, and ``with_knobs`` returns a
config with some knobs changed from text (``"retrieval.alpha=0.5"``). The service, ``grounded ask``,
``grounded eval`` and the tuning harness read and enumerate knobs only through these.
The defaults are the ones the evaluation chose on the tune split (docs/evaluation.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, Literal, get_args

from index import Mode

Fusion = Literal["rrf", "convex", "max_z"]
ReaderUse = Literal["blend", "replace"]


def knob(default: Any, meaning: str) -> Any:
    """A dataclass field with its one-line meaning (read by ``knobs()``)."""
    return field(default=default, metadata={"meaning": meaning})


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrievalConfig:
    """Passage ranking: first stage, fusion, second stage, de-crowding."""

    mode: Mode = knob("hybrid", "which first stage runs: hybrid (dense and BM25 fused), dense or sparse")
    fusion: Fusion = knob("max_z", "how hybrid fuses dense and BM25: max_z, rrf or convex")
    alpha: float = knob(0.7, "convex fusion: weight of the dense side (BM25 gets 1 - alpha)")
    peak_weight: float = knob(0.5, "max_z fusion: weight of the larger z-score against the mean of both")
    rescore: bool = knob(True, "second stage on: each candidate also scored by its best sentence")
    sentence_weight: float = knob(0.2, "second stage: weight of the best sentence's similarity")
    candidates: int = knob(50, "first-stage pool size taken from each retriever")
    max_overlap: float = knob(0.5, "de-crowding: demote a passage sharing more than this share with a kept one")
    max_per_document: int = knob(2, "de-crowding: passages of one document kept before the rest (0: no cap)")


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerConfig:
    """Answer selection and abstention; ``min_score`` is the abstention threshold set by calibration."""

    max_sentences: int = knob(3, "most sentences in an extractive answer")
    from_passages: int = knob(5, "answer sentences come from this many top passages")
    lexical_weight: float = knob(0.6, "weight of the idf-weighted share of question terms a sentence holds")
    min_score: float = knob(0.35, "abstain when the best sentence's relevance is below this")
    keep_ratio: float = knob(0.9, "keep further sentences scoring at least this share of the best")
    min_words: int = knob(5, "shortest sentence (in words) that can be an answer")
    type_weight: float = knob(0.15, "bonus for holding the quantity, date or name the question asks for")
    agreement_weight: float = knob(0.3, "weight of a sentence's agreement with other retrieved documents")
    topic_discount: float = knob(1.0, "discount of question terms the sentence's document repeats (0: off)")
    """A question term counts less in a sentence for being common in that sentence's document: its
    weight is multiplied by ``1 - topic_discount * share``, ``share`` being the fraction of the
    document's candidate sentences that hold it, so a sentence that only repeats what the whole
    article is about (the names in a news lede) loses to one holding the question's specific words.
    1.0 was chosen on the tune split (docs/evaluation.md, "Topic discount"). Abstention is decided
    without it."""
    type_margin: float | None = knob(None, "abstain when no sentence this close to the best holds the asked type")
    """Off by default: 0.3, chosen on the tune split, added false abstentions on the test split
    (docs/evaluation.md, "Answer-type abstention")."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementConfig:
    """Cross-document agreement of answer sentences."""

    neighbours: int = knob(3, "a sentence's agreement: mean cosine of this many closest other-document sentences")


@dataclass(frozen=True, slots=True, kw_only=True)
class RerankConfig:
    """The trained reader (cross-encoder) that reranks passages and chooses the answer, when loaded."""

    enabled: bool = knob(True, "use the trained reader when one is loaded (false: the rules alone)")
    use: ReaderUse = knob("blend", "blend: the reader's scores are added to the rules' scores (weights below); "
                                   "replace: they replace them")
    passage_weight: float = knob(1.0, "blend: weight of a passage's best reader score added to its ranking score")
    sentence_weight: float = knob(0.5, "blend: weight of a sentence's reader score added to its answer score")
    passages: int = knob(10, "the reader reranks this many top passages (the rest keep their order below)")
    sentences: int = knob(12, "besides each passage's best sentence, the reader reads this many best sentences")
    min_score: float = knob(0.5, "abstain when the reader's best answerable sentence scores below this (0: never)")
    keep_ratio: float = knob(0.8, "keep further answer sentences scoring at least this share of the best")


@dataclass(frozen=True, slots=True, kw_only=True)
class RankingConfig:
    """Every knob of the ranking pipeline, by section."""

    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    agreement: AgreementConfig = field(default_factory=AgreementConfig)
    rerank: RerankConfig = field(default_factory=RerankConfig)


@dataclass(frozen=True, slots=True, kw_only=True)
class Knob:
    """One knob: its dotted name, default, the type of its values and its meaning."""

    name: str
    default: object
    kind: str
    meaning: str


_SECTIONS: dict[str, type[Any]] = {"retrieval": RetrievalConfig, "answer": AnswerConfig,
                                   "agreement": AgreementConfig, "rerank": RerankConfig}


def knobs() -> tuple[Knob, ...]:
    """Every knob of ``RankingConfig``, section by section, in declaration order."""
    found: list[Knob] = []
    for section, section_type in _SECTIONS.items():
        for item in fields(section_type):
            default = item.default if item.default is not MISSING else None
            found.append(Knob(name=f"{section}.{item.name}", default=default, kind=str(item.type),
                              meaning=str(item.metadata["meaning"])))
    return tuple(found)


def knob_names() -> tuple[str, ...]:
    """The dotted names of every knob."""
    return tuple(item.name for item in knobs())


def resolve_knob(name: str) -> str:
    """The dotted name of a knob given dotted or by its short name when that is unique (``alpha``)."""
    names = knob_names()
    if name in names:
        return name
    matches = [full for full in names if full.partition(".")[2] == name]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(f"unknown knob {name!r}: use one of {', '.join(names)}")


def parse_value(name: str, text: str) -> object:
    """The value of knob ``name`` written as ``text`` ("none" for an optional knob's None)."""
    by_name = {item.name: item for item in knobs()}
    if name not in by_name:
        raise ValueError(f"unknown knob {name!r}: use one of {', '.join(by_name)}")
    kind = by_name[name].kind
    lowered = text.strip().lower()
    if "None" in kind and lowered in ("none", "null", ""):
        return None
    if kind.startswith("bool"):
        if lowered not in ("true", "false", "1", "0", "on", "off"):
            raise ValueError(f"{name} takes true or false, not {text!r}")
        return lowered in ("true", "1", "on")
    if kind.startswith("int"):
        return int(text)
    if kind.startswith("float"):
        return float(text)
    allowed = {"Mode": get_args(Mode), "Fusion": get_args(Fusion), "ReaderUse": get_args(ReaderUse)}.get(kind, ())
    if allowed and text not in allowed:
        raise ValueError(f"{name} takes one of {', '.join(allowed)}, not {text!r}")
    return text


def with_knobs(config: RankingConfig, values: Mapping[str, object]) -> RankingConfig:
    """``config`` with the given knobs (dotted names) set; values that are text are parsed."""
    changes: dict[str, dict[str, object]] = {}
    for name, value in values.items():
        parsed = parse_value(name, value) if isinstance(value, str) else value
        if name not in knob_names():
            raise ValueError(f"unknown knob {name!r}: use one of {', '.join(knob_names())}")
        section, _, attribute = name.partition(".")
        changes.setdefault(section, {})[attribute] = parsed
    return replace(config, **{section: replace(getattr(config, section), **attributes)
                              for section, attributes in changes.items()})


def knob_value(config: RankingConfig, name: str) -> object:
    """The value of one knob (dotted name) in ``config``."""
    section, _, attribute = name.partition(".")
    return getattr(getattr(config, section), attribute)
