"""Serving settings, read from ``GROUNDED_*`` environment variables by ``load_settings``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the server needs at start-up; the model itself is configured by the index."""

    model_config = SettingsConfigDict(env_prefix="GROUNDED_", extra="forbid", frozen=True)

    index_dir: Path = Path("var/index")
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    max_body_bytes: Annotated[int, Field(ge=1)] = 65536
    threads: Annotated[int, Field(ge=1, description="torch/faiss intra-op threads")] = 1
    cache_size: Annotated[int, Field(ge=0, description="cached query results; 0 disables")] = 256
    query_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    api_key: SecretStr | None = None
    admin_key: SecretStr | None = None
    # NoDecode: accept "https://a,https://b" as well as a JSON list in GROUNDED_CORS_ORIGINS.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

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


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with keyword overrides taking precedence.

    Raises ``pydantic.ValidationError`` naming the offending ``GROUNDED_*`` field.
    """
    return Settings(**overrides)
