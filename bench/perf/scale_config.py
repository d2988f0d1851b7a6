"""What the scale benchmark measures: sizes, timing budgets and the synthetic vector model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
Checkpoint = Callable[[dict[str, Any]], None]
TOP_K = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class VectorModel:
    """Parameters of the structured synthetic vectors (recorded with the results)."""

    dimension: int = 384
    latent_rank: int = 64
    topics: int = 2048
    topic_spread: float = 1.0
    noise: float = 0.65
    mean_weight: float = 0.6
    spectrum_decay: float = 0.3
    seed: int = 20240611


@dataclass(frozen=True, slots=True, kw_only=True)
class ScaleConfig:
    """What the scale benchmark measures and how long each timing loop may run."""

    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    queries: int = 200
    ef_values: tuple[int, ...] = (32, 64, 128, 256)
    timing_seconds: float = 20.0
    bm25_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    bm25_budget_seconds: float = 300.0
    workdir: Path | None = None
    vector_model: VectorModel = field(default_factory=VectorModel)
