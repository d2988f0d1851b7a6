"""Serving settings, read from ``GROUNDED_*`` environment variables by ``load_settings``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from service.engine import EngineConfig

QUEUE_PER_SLOT = 32
"""Default waiters per query slot (``Settings.queue_slots``)."""


class Settings(BaseSettings):
    """Everything the server needs at start-up; the model itself is configured by the index."""

    model_config = SettingsConfigDict(env_prefix="GROUNDED_", extra="forbid", frozen=True)

    index_dir: Path = Path("var/index")
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    max_body_bytes: Annotated[int, Field(ge=1)] = 65536
    threads: Annotated[int, Field(ge=1, description="torch/faiss intra-op threads")] = 1
    cache_size: Annotated[int, Field(ge=0, description="cached query results; 0 disables")] = 256
    second_stage: bool = Field(default=True, description=(
        "rank every first-stage candidate by its best sentence too (the evaluated default); "
        "false keeps the fused first-stage order and compares fewer sentences per query"))
    reader: str = Field(default="off", description=(
        "the trained reader that reranks passages and chooses the answer: 'shipped' (models/ in the "
        "repository, see docs/models.md), 'off' (the hand-tuned rules alone) or a model folder"))
    verifier: str = Field(default="shipped", description=(
        "the trained claim verifier that decides /check's verdicts (and those of generated answers): "
        "'shipped' (models/verifier-minilm-v2, see docs/models.md), 'off' (the rules alone) or a model folder"))
    query_runtime: Annotated[Literal["onnx", "torch"], Field(
        description="what encodes questions: onnx (ONNX Runtime where the model allows, else torch) or torch")] = "onnx"
    query_timeout_s: Annotated[float, Field(gt=0, description="deadline of one query, queue wait included")] = 10.0
    # None: derived from the cores (see query_slots and queue_slots).
    max_concurrent_queries: Annotated[int, Field(ge=1)] | None = None
    max_queue: Annotated[int, Field(ge=0)] | None = None
    queue_timeout_s: Annotated[float, Field(ge=0, description="longest wait for a slot before a 503")] = 1.0
    shutdown_grace_s: Annotated[int, Field(ge=1, description="SIGTERM: seconds left to requests in flight")] = 30
    # Keys compare in constant time (service.auth); SecretStr keeps them out of reprs and logs.
    api_key: SecretStr | None = None
    admin_key: SecretStr | None = None
    metrics_public: bool = Field(default=False, description="serve /metrics without the query key")
    # NoDecode: accept "https://a,https://b" as well as a JSON list in GROUNDED_CORS_ORIGINS.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Generated answers (``"answer_mode": "generative"``) from an OpenAI-compatible server; off
    # without a base URL. docs/grounding.md, "Generated answers", gives the values for llama.cpp's
    # server, vLLM, Ollama and hosted APIs.
    llm_base_url: str | None = Field(default=None, description="e.g. http://127.0.0.1:8080/v1")
    llm_model: str | None = Field(default=None, description="the model name the server expects")
    llm_api_key: SecretStr | None = None
    llm_timeout_s: Annotated[float, Field(gt=0, description="deadline of one model call, whole stream included")] = 30.0
    llm_unsupported: Annotated[Literal["remove", "mark"], Field(
        description="what happens to generated sentences the checker does not find supported")] = "remove"
    llm_sources: Annotated[int, Field(ge=1, le=20, description="top passages sent to the model as [1]..[n]")] = 5

    def engine_config(self) -> EngineConfig:
        """The query engine's settings: the evaluated defaults, with the cache and second stage set here."""
        # Imported here: the engine's modules load FAISS and numpy, settings are read without them.
        from grounding import verifier_folder
        from ranking import RankingConfig, reader_folder, with_knobs
        from service.engine import EngineConfig

        return EngineConfig(cache_size=self.cache_size, reader=reader_folder(self.reader),
                            verifier=verifier_folder(self.verifier),
                            ranking=with_knobs(RankingConfig(), {"retrieval.rescore": self.second_stage}))

    @field_validator("llm_base_url", "llm_model", mode="after")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        """``GROUNDED_LLM_BASE_URL=`` means no server."""
        if value is None:
            return None
        return value.strip() or None

    @field_validator("api_key", "admin_key", mode="after")
    @classmethod
    def _empty_key_is_no_key(cls, value: SecretStr | None) -> SecretStr | None:
        """``GROUNDED_API_KEY=`` means no key: an empty key would let an empty header through."""
        if value is not None and not value.get_secret_value():
            return None
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        """Parse a comma-separated or JSON-list string; an empty string means CORS off."""
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                return json.loads(stripped)
            return [origin.strip() for origin in stripped.split(",") if origin.strip()]
        return value

    @property
    def generation_configured(self) -> bool:
        """True when a model server is configured (a base URL; the model name may be left to it)."""
        return self.llm_base_url is not None

    @property
    def query_slots(self) -> int:
        """Queries computed at once: each uses ``threads`` intra-op threads, so cores // threads."""
        if self.max_concurrent_queries is not None:
            return self.max_concurrent_queries
        return max(1, available_cores() // self.threads)

    @property
    def queue_slots(self) -> int:
        """Queries that may wait for a slot (each waiter costs no thread, only a coroutine).

        32 waiters per slot: a warm query takes 8-17 ms on 2 cores, so a full queue is 0.26-0.54 s
        of work and drains inside ``queue_timeout_s`` (1 s), while a stall of a few hundred
        milliseconds (a collection, a noisy neighbour, a client sending a burst) at a sustainable
        rate is absorbed instead of refused. With 8 per slot (64-136 ms of work) steady load at
        70 % of capacity got 503s in bursts (docs/reliability.md, finding 7).
        """
        return self.max_queue if self.max_queue is not None else QUEUE_PER_SLOT * self.query_slots


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, which containers narrow), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with keyword overrides taking precedence.

    Raises ``pydantic.ValidationError`` naming the offending ``GROUNDED_*`` field.
    """
    return Settings(**overrides)
