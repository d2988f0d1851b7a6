"""The HTTP wire contract (pydantic v2). Field names here are read by other tools: keep them.

Internal records live in ``service/records.py``; ``service/mapping.py`` converts between the two so
that renaming an internal field cannot silently change the API.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

QUESTION_MAX_CHARS = 2000
TOP_K_MIN = 1
TOP_K_MAX = 50
DOC_ID_MAX_CHARS = 256
FILTER_MAX_DOC_IDS = 100

# C0 and C1 control characters except tab, line feed and carriage return, which people paste.
_ALLOWED_CONTROLS = frozenset("\t\n\r")
_CONTROLS_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_TEXT_PATTERN = rf"^[^{_CONTROLS_CLASS}]*$"
_QUESTION_PATTERN = rf"^[^{_CONTROLS_CLASS}]*[^\s{_CONTROLS_CLASS}][^{_CONTROLS_CLASS}]*$"


def _first_forbidden_character(value: str) -> str | None:
    """Describe the first control character or unpaired surrogate in ``value``, else None."""
    for position, character in enumerate(value):
        code_point = ord(character)
        if 0xD800 <= code_point <= 0xDFFF:
            # json.loads joins valid surrogate pairs, so any surrogate left is unpaired.
            return f"an unpaired surrogate U+{code_point:04X} at position {position}"
        if unicodedata.category(character) == "Cc" and character not in _ALLOWED_CONTROLS:
            return f"a control character U+{code_point:04X} at position {position}"
    return None


def _check_text(value: str, max_chars: int, fix: str) -> str:
    """Reject empty, over-long, whitespace-only and control-character text; ``fix`` says what to do."""
    if not value:
        raise ValueError(f"must not be empty; {fix}")
    if len(value) > max_chars:
        raise ValueError(f"must be at most {max_chars} characters (got {len(value)}); shorten it")
    if value.isspace():
        raise ValueError(f"must contain more than whitespace; {fix}")
    forbidden = _first_forbidden_character(value)
    if forbidden is not None:
        raise ValueError(f"must be plain text, found {forbidden}; remove it")
    return value


def _check_question(value: str) -> str:
    """Reject empty, over-long, whitespace-only and control-character questions; strip the rest."""
    return _check_text(value, QUESTION_MAX_CHARS, "ask a question").strip()


def _is_none(value: object) -> bool:
    """Leave an optional field out of the body when unset (``Field(exclude_if=...)``)."""
    return value is None


def _check_top_k(value: int) -> int:
    """Keep ``top_k`` within the served range."""
    if not TOP_K_MIN <= value <= TOP_K_MAX:
        raise ValueError(f"must be between {TOP_K_MIN} and {TOP_K_MAX}")
    return value


def _check_doc_id(value: str) -> str:
    """Doc ids are short plain text; anything else cannot name a document."""
    if not 1 <= len(value) <= DOC_ID_MAX_CHARS:
        raise ValueError(f"each doc_id must be 1 to {DOC_ID_MAX_CHARS} characters")
    forbidden = _first_forbidden_character(value)
    if forbidden is not None:
        raise ValueError(f"each doc_id must be plain text, found {forbidden}")
    return value


# The JSON-schema keywords restate the validators' rules for clients and schema-driven testers;
# the validators enforce them with messages that say what to fix.
Question = Annotated[
    StrictStr,
    AfterValidator(_check_question),
    Field(
        description="The question; 1-2000 characters, not only whitespace, no control characters.",
        json_schema_extra={
            "minLength": 1,
            "maxLength": QUESTION_MAX_CHARS,
            "pattern": _QUESTION_PATTERN,
        },
    ),
]
TopK = Annotated[
    StrictInt,
    AfterValidator(_check_top_k),
    Field(
        description="How many passages to return.",
        json_schema_extra={"minimum": TOP_K_MIN, "maximum": TOP_K_MAX},
    ),
]
DocId = Annotated[
    StrictStr,
    AfterValidator(_check_doc_id),
    Field(
        json_schema_extra={
            "minLength": 1,
            "maxLength": DOC_ID_MAX_CHARS,
            "pattern": _TEXT_PATTERN,
        }
    ),
]
Mode = Literal["hybrid", "dense", "sparse"]
"""The wire's own copy of ``index.records.Mode`` (an internal rename must not change the API);
``tests/test_service_api.py`` asserts the two are equal."""


AnswerMode = Literal["extractive", "generative"]


class QueryFilters(BaseModel):
    """Restrict retrieval to some documents."""

    model_config = ConfigDict(extra="forbid", strict=True)

    doc_ids: Annotated[list[DocId], Field(min_length=1, max_length=FILTER_MAX_DOC_IDS)]


class QueryRequest(BaseModel):
    """Body of ``POST /query``. Unknown fields and type coercion are rejected."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question: Question
    top_k: TopK = 5
    mode: Mode = Field(default="hybrid", description="Retrieval: hybrid (fused), dense or sparse.")
    filters: QueryFilters | None = None
    answer_mode: AnswerMode = Field(default="extractive", description=(
        "extractive: cited sentences of the passages. generative: a model (GROUNDED_LLM_BASE_URL) "
        "writes the answer from the top passages and every sentence is checked; without a model, "
        "or when it fails, the answer is extractive and fallback_reason says why."))
    stream: StrictBool = Field(default=False, description=(
        "Answer as server-sent events: 'delta' events with the generated text, then one 'result' "
        "event with this response's JSON (verdicts included)."))


PAGES_DESCRIPTION = ("The PDF pages (numbered from 1) the range lies on: two when it crosses a page break. "
                     "Only for documents with pages.")


class AnswerCitation(BaseModel):
    """One answer sentence: ``document.text[start_char:end_char] == text``."""

    doc_id: str
    start_char: int
    end_char: int
    text: str
    passage_rank: int = Field(description="The rank of the passage this sentence came from.")
    pages: list[int] | None = Field(default=None, exclude_if=_is_none, description=PAGES_DESCRIPTION)


class AnswerBody(BaseModel):
    """An extractive answer made of cited sentences."""

    text: str
    citations: list[AnswerCitation]


class Abstention(BaseModel):
    """Why the service gave no answer (``answer`` is null exactly when this is set)."""

    reason: str


class PassageCitation(BaseModel):
    """Where a passage comes from: ``document.text[start_char:end_char] == passage.text``."""

    doc_id: str
    title: str
    source: str
    chunk_id: str
    start_char: int
    end_char: int
    pages: list[int] | None = Field(default=None, exclude_if=_is_none, description=PAGES_DESCRIPTION)


class PassageBody(BaseModel):
    """A ranked passage; offsets count Unicode code points of the document text."""

    rank: int
    score: float
    text: str
    citation: PassageCitation


class TimingsBody(BaseModel):
    """Per-stage wall time in milliseconds."""

    embed: float
    search: float
    rescore: float
    answer: float
    total: float


ANSWER_MAX_CHARS = 20000
CITATIONS_MAX = 100
OFFSET_MAX = 2**31 - 1

AnswerText = Annotated[
    StrictStr,
    AfterValidator(lambda value: _check_text(value, ANSWER_MAX_CHARS, "write the answer to check")),
    Field(
        description=f"The answer to check; 1-{ANSWER_MAX_CHARS} characters, not only whitespace, "
        "no control characters.",
        json_schema_extra={"minLength": 1, "maxLength": ANSWER_MAX_CHARS, "pattern": _QUESTION_PATTERN},
    ),
]
Offset = Annotated[StrictInt, Field(ge=0, le=OFFSET_MAX, description="A code-point offset into the document text.")]
Verdict = Literal["supported", "partially_supported", "unsupported", "no_citation"]
"""The wire's own copy of ``grounding.records.Verdict``; ``tests/test_service_check.py`` asserts they are equal."""


class CheckCitation(BaseModel):
    """A cited range: ``document.text[start_char:end_char]``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    doc_id: DocId
    start_char: Offset
    end_char: Offset


class CheckAnswer(BaseModel):
    """An answer to check and the ranges it cites."""

    model_config = ConfigDict(extra="forbid", strict=True)

    text: AnswerText
    citations: Annotated[list[CheckCitation], Field(max_length=CITATIONS_MAX)] = Field(default_factory=list)


class CheckRequest(BaseModel):
    """Body of ``POST /check``; without citations, ``question`` retrieves the evidence."""

    model_config = ConfigDict(extra="forbid", strict=True)

    answer: CheckAnswer
    question: Question | None = None


class EvidenceBody(BaseModel):
    """The span that best supports a sentence: ``document.text[start_char:end_char] == text``."""

    doc_id: str
    start_char: int
    end_char: int
    text: str
    pages: list[int] | None = Field(default=None, exclude_if=_is_none, description=PAGES_DESCRIPTION)


class ReasonBody(BaseModel):
    """Why a sentence is not fully supported: a stable code and a sentence for people."""

    code: str
    message: str


VerifierLabel = Literal["supported", "contradicted", "not_enough_info"]
"""The wire's own copy of ``grounding.records.Label``; ``tests/test_service_check.py`` asserts they are equal."""


class VerifierProbabilities(BaseModel):
    """The claim verifier's probability of each class (they sum to 1)."""

    supported: float
    contradicted: float
    not_enough_info: float


class VerifierBody(BaseModel):
    """What the trained claim verifier read and said about one sentence."""

    label: VerifierLabel = Field(description=(
        "The verifier's class after the one rule that overrules it: a number or date of the sentence "
        "that the window does not state makes 'supported' 'contradicted'."))
    probabilities: VerifierProbabilities
    model: str = Field(description="name@version of the verifier (models/ in the repository)")
    window: EvidenceBody = Field(description="The cited sentences and one neighbour on either side: what it read.")


class SentenceVerdict(BaseModel):
    """The verdict on one answer sentence ``answer.text[start:end] == text``."""

    text: str
    start: int
    end: int
    verdict: Verdict = Field(description=(
        "The claim verifier's verdict where it ran (see verifier), else the rules'."))
    score: float
    evidence: EvidenceBody | None
    reasons: list[ReasonBody] = Field(description="The rules' findings, for people; empty when they found none.")
    rules_verdict: Verdict | None = Field(default=None, exclude_if=_is_none, description=(
        "The rules' own verdict (numbers, dates, names, negation, similarity); equal to verdict without a verifier."))
    verifier: VerifierBody | None = Field(default=None, exclude_if=_is_none, description=(
        "The trained verifier's reading; absent when it is off (GROUNDED_VERIFIER=off) or nothing was cited."))
    disagreement: str | None = Field(default=None, exclude_if=_is_none, description=(
        "Present only where the verifier and the rules disagree: both sides in one sentence."))


class CheckResponse(BaseModel):
    """Body of a successful ``POST /check``: every sentence's verdict, and the supported share."""

    sentences: list[SentenceVerdict]
    supported_share: float


class QueryResponse(BaseModel):
    """Body of a successful ``POST /query``."""

    question: str
    answer: AnswerBody | None
    abstention: Abstention | None
    passages: list[PassageBody]
    index_version: str
    timings_ms: TimingsBody
    ranker: str = Field(default="rules", description=(
        "What ranked the passages and chose the answer: \"rules\" (the hand-tuned stages) or the "
        "trained reader's name@version (GROUNDED_READER)."))
    # Only in answers to "answer_mode": "generative", and left out of the body when None, so an
    # extractive body keeps its shape: what was answered, why not generatively, and each generated
    # sentence's verdict.
    answer_mode: AnswerMode | None = Field(default=None, exclude_if=_is_none,
                                           description="Only when generative was asked.")
    fallback_reason: str | None = Field(default=None, exclude_if=_is_none, description=(
        "Why a generative request was answered extractively (no model configured, timeout, error, "
        "malformed output, nothing supported)."))
    sentences: list[SentenceVerdict] | None = Field(default=None, exclude_if=_is_none, description=(
        "Each generated sentence's verdict and evidence (offsets into answer.text)."))


class DocumentSummary(BaseModel):
    """One entry of ``GET /documents``."""

    doc_id: str
    title: str
    source: str
    chunk_count: int


class PageSpan(BaseModel):
    """Where one page of a PDF lies in its document's text: ``text[start_char:end_char]``."""

    page: int = Field(description="The page number, from 1.")
    start_char: int
    end_char: int


class DocumentDetail(DocumentSummary):
    """Body of ``GET /documents/{doc_id}``: metadata plus the text every offset points into.

    With ``?page=N`` (PDF only), ``text`` is that page's text and ``page`` says where it lies in the
    document's text, so offsets of citations still index ``document.text``.
    """

    text: str
    pages: list[PageSpan] | None = Field(default=None, exclude_if=_is_none, description=(
        "Where each page lies in the document's text; only for documents with pages (PDF)."))
    page: PageSpan | None = Field(default=None, exclude_if=_is_none, description=(
        "Only with ?page=N: the page ``text`` holds, and where it lies in the document's text."))


class DocumentExcerpt(BaseModel):
    """A range of a document's text: ``document.text[start_char:end_char] == text`` (MCP ``get_document``)."""

    doc_id: str
    title: str
    source: str
    document_chars: int = Field(description="Length of the whole text in code points: the largest end_char.")
    start_char: int
    end_char: int
    text: str
    truncated: bool = Field(description=(
        "True when the range asked for was longer than one excerpt may be: ask again from end_char for the rest."))


class HealthResponse(BaseModel):
    """Liveness: the process answers HTTP."""

    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    """Readiness: the engine is loaded and answered its warm-up query."""

    status: Literal["ready"] = "ready"
    index_version: str


class ErrorBody(BaseModel):
    """A stable machine-readable code and a message saying what to fix."""

    code: str
    message: str


class ErrorResponse(BaseModel):
    """The one shape of every error body."""

    error: ErrorBody
