"""The generative path of ``POST /query`` (the async edge): the retrieval's top passages to the
model, every sentence it writes through the checker, and the response; or, when there is no model,
it fails or says nothing checkable, the extractive answer with a ``fallback_reason``.

The model call waits on the network outside admission control (a query slot is CPU); the checker
runs on admission's query threads like any query.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial

from grounding import parse_marked_answer
from service.admission import Admission
from service.errors import ErrorCode, OverloadedError, QueryTimeoutError, ServiceError
from service.generative import Unsupported, assemble, build_messages, check_claims, malformed_reason
from service.llm import ChatModel, ModelCallError
from service.mapping import to_fallback_response, to_generated_response
from service.observability import Metrics
from service.records import Passage, QueryResult
from service.reload import Served
from service.schemas import QueryResponse

logger = logging.getLogger(__name__)

# Fallbacks that say the model server (or its configuration) misbehaved: worth a log line.
_MODEL_FAILURES = frozenset({"timeout", "error", "malformed"})
NOT_CONFIGURED = "no model server is configured (GROUNDED_LLM_BASE_URL is not set)"
NO_PASSAGES = "nothing was retrieved to write an answer from"
NOTHING_SUPPORTED = "no generated sentence was supported by the passages it cites"


@dataclass(frozen=True, slots=True, kw_only=True)
class Generation:
    """The generative path's collaborators: the model (None when not configured) and its settings."""

    model: ChatModel | None
    unsupported: Unsupported
    sources: int


@dataclass(frozen=True, slots=True, kw_only=True)
class _Request:
    """One generative request once retrieval is done."""

    result: QueryResult
    served: Served
    admission: Admission
    metrics: Metrics
    generation: Generation

    @property
    def passages(self) -> tuple[Passage, ...]:
        """The sources the model sees, ``[1]`` first."""
        return self.result.passages[: self.generation.sources]

    def fallback(self, outcome: str, reason: str) -> QueryResponse:
        """The extractive answer, saying why it is not generated."""
        self.metrics.observe_generation(outcome)
        if outcome in _MODEL_FAILURES:
            logger.warning("generated answer replaced by the extractive one: %s", reason)
        return to_fallback_response(self.result, f"{reason}; answered extractively")


async def generate(result: QueryResult, served: Served, admission: Admission, metrics: Metrics,
                   generation: Generation) -> QueryResponse:
    """The generated answer for ``result``'s question, or the extractive one with the reason."""
    request = _Request(result=result, served=served, admission=admission, metrics=metrics, generation=generation)
    model = _model_or_fallback(request)
    if isinstance(model, QueryResponse):
        return model
    try:
        raw = await model.complete(build_messages(result.question, request.passages))
    except ModelCallError as error:
        return request.fallback(error.kind, str(error))
    return await _finish(request, raw)


async def stream_events(result: QueryResult, served: Served, admission: Admission, metrics: Metrics,
                        generation: Generation) -> AsyncIterator[bytes]:
    """Server-sent events: ``delta`` with each piece of generated text, then one ``result`` with
    the response body (or ``error`` with the error body when the checker could not run)."""
    request = _Request(result=result, served=served, admission=admission, metrics=metrics, generation=generation)
    model = _model_or_fallback(request)
    if isinstance(model, QueryResponse):
        yield _result_event(model)
        return
    pieces: list[str] = []
    try:
        async for piece in model.stream(build_messages(result.question, request.passages)):
            pieces.append(piece)
            yield event("delta", {"text": piece})
    except ModelCallError as error:
        yield _result_event(request.fallback(error.kind, str(error)))
        return
    try:
        response = await _finish(request, "".join(pieces))
    except ServiceError as error:
        # The status line went out with the first event: the error travels as an event.
        yield event("error", {"error": {"code": _code(error), "message": str(error)}})
        return
    yield _result_event(response)


def extractive_events(response: QueryResponse) -> AsyncIterator[bytes]:
    """The stream of an extractive answer: its one ``result`` event."""

    async def events() -> AsyncIterator[bytes]:
        yield _result_event(response)

    return events()


def event(name: str, data: object) -> bytes:
    """One server-sent event; JSON on one line, so no ``data:`` line needs splitting."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=True)}\n\n".encode()


def _result_event(response: QueryResponse) -> bytes:
    return f"event: result\ndata: {response.model_dump_json()}\n\n".encode()


def _model_or_fallback(request: _Request) -> ChatModel | QueryResponse:
    """The model to ask, or the fallback when generating is impossible before asking it."""
    if request.generation.model is None:
        return request.fallback("not_configured", NOT_CONFIGURED)
    if not request.passages:
        return request.fallback("no_passages", NO_PASSAGES)
    return request.generation.model


async def _finish(request: _Request, raw: str) -> QueryResponse:
    """Parse the model's text, check every sentence on a query thread, and build the response."""
    passages: Sequence[Passage] = request.passages
    marked = parse_marked_answer(raw)
    malformed = malformed_reason(marked, passages)
    if malformed is not None:
        return request.fallback("malformed", malformed)
    checks = await request.admission.run(partial(check_claims, marked, passages, request.served.engine.check))
    for check in checks:
        request.metrics.observe_check(check)
    generated = assemble(marked, checks, passages, request.generation.unsupported)
    if generated is None:
        return request.fallback("unsupported", NOTHING_SUPPORTED)
    request.metrics.observe_generation("generated")
    return to_generated_response(request.result, generated)


def _code(error: ServiceError) -> str:
    if isinstance(error, OverloadedError):
        return ErrorCode.OVERLOADED
    if isinstance(error, QueryTimeoutError):
        return ErrorCode.QUERY_TIMEOUT
    return ErrorCode.INTERNAL_ERROR
