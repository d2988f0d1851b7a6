"""The model edge: chat completions from any OpenAI-compatible server, through the official client.

llama.cpp's ``llama-server``, vLLM, Ollama and hosted APIs all speak ``/v1/chat/completions``; the
settings (``GROUNDED_LLM_*``) say where. Every failure (no answer within ``llm_timeout_s``, a
connection or HTTP error, a body that is not a completion) raises ``ModelCallError``, whose
``kind`` the caller turns into an extractive answer with a ``fallback_reason``: the service never
fails a request because the model did.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Literal

from index import GroundedError
from service.settings import Settings

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletionMessageParam

FailureKind = Literal["timeout", "error", "malformed"]


class ModelCallError(GroundedError):
    """The model call failed; ``kind`` says how (timeout, error, malformed) for the response."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind


class ChatModel:
    """One OpenAI-compatible chat model; ready when constructed, ``close`` when the app stops."""

    def __init__(self, *, base_url: str, model: str, api_key: str, timeout_s: float) -> None:
        # Imported here, not with the module: the client costs ~0.7 s of every start-up
        # (`python -X importtime`), and a server without a model never needs it.
        import openai

        self.model = model
        self.timeout_s = timeout_s
        # No retries: a retry after a timeout would double the wait the client already paid for.
        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)

    async def complete(self, messages: Sequence[ChatCompletionMessageParam]) -> str:
        """The whole answer text of one completion."""
        import openai  # loaded by __init__ already: a lookup in sys.modules

        try:
            completion = await asyncio.wait_for(
                self._client.chat.completions.create(model=self.model, messages=list(messages), temperature=0),
                self.timeout_s)
        except (TimeoutError, openai.APITimeoutError) as error:
            raise ModelCallError("timeout", f"the model gave no answer within {self.timeout_s:g} s") from error
        except openai.OpenAIError as error:
            raise ModelCallError("error", f"the model server failed: {_describe(error)}") from error
        except ValueError as error:  # a body that is not JSON (json.JSONDecodeError)
            raise ModelCallError("malformed", "the model server's reply was not a completion") from error
        choices = getattr(completion, "choices", None)
        content = getattr(getattr(choices[0], "message", None), "content", None) if choices else None
        if not isinstance(content, str):
            raise ModelCallError("malformed", "the model server's reply held no answer text")
        return content

    async def stream(self, messages: Sequence[ChatCompletionMessageParam]) -> AsyncIterator[str]:
        """The answer text as the server sends it, piece by piece, all within ``timeout_s``."""
        import openai  # loaded by __init__ already: a lookup in sys.modules

        deadline = time.monotonic() + self.timeout_s
        try:
            chunks = await asyncio.wait_for(self._client.chat.completions.create(
                model=self.model, messages=list(messages), temperature=0, stream=True), self.timeout_s)
            async with chunks:  # closes the connection when the stream ends early (timeout, client gone)
                iterator = chunks.__aiter__()
                while True:
                    try:
                        chunk = await asyncio.wait_for(iterator.__anext__(), max(deadline - time.monotonic(), 0.0))
                    except StopAsyncIteration:
                        return
                    for choice in getattr(chunk, "choices", None) or ():
                        text = getattr(getattr(choice, "delta", None), "content", None)
                        if isinstance(text, str) and text:
                            yield text
        except (TimeoutError, openai.APITimeoutError) as error:
            raise ModelCallError("timeout", f"the model did not finish within {self.timeout_s:g} s") from error
        except openai.OpenAIError as error:
            raise ModelCallError("error", f"the model server failed: {_describe(error)}") from error
        except ValueError as error:  # an event that is not JSON (json.JSONDecodeError)
            raise ModelCallError("malformed", "the model server's stream was not a completion") from error

    async def close(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()


def _describe(error: openai.OpenAIError) -> str:
    """The error's class and status, never the server's body (it may echo the prompt)."""
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}" + (f" (HTTP {status})" if status is not None else "")


def chat_model(settings: Settings) -> ChatModel | None:
    """The configured model, or None when ``GROUNDED_LLM_BASE_URL`` is not set."""
    if not settings.generation_configured or settings.llm_base_url is None:
        return None
    # Local servers (llama.cpp, vLLM, Ollama) need no key, but the client insists on one.
    api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key is not None else "no-key"
    return ChatModel(base_url=settings.llm_base_url, model=settings.llm_model or "default",
                     api_key=api_key, timeout_s=settings.llm_timeout_s)
