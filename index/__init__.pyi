"""The face of ``index``: the names other packages import (loaded lazily; see ``__init__.py``)."""

from .analysis import content_terms, is_acronym
from .build import IngestReport, ingest
from .dense import set_faiss_threads
from .errors import (
    BuildError,
    GroundedError,
    IndexCorruptedError,
    IndexFolderError,
    IndexMissingError,
    ModelMismatchError,
    PublishError,
    ShardUnavailableError,
)
from .jsonl import json_objects
from .layout import current_version
from .load import load_index
from .model_card import SHIPPED_MODELS, ModelCard, ModelLoadError, verify_folder
from .pair_model import PAIR_MODEL_FILES, OnnxPairModel, model_choice, verify_pair_model
from .query_encoder import Embedder, QueryRuntime, check_model, load_embedder, load_query_encoder
from .ray_build import RayOptions, ray_ingest
from .ray_shards import RayServeOptions, connect, load_ray_index, shutdown_serving
from .records import Chunk, ChunkingParams, Document, Hit, Manifest, Mode, Sentence, chunking_with
from .searcher import Index
from .sharding import MAX_SHARDS

__all__ = [
    "MAX_SHARDS",
    "PAIR_MODEL_FILES",
    "SHIPPED_MODELS",
    "BuildError",
    "Chunk",
    "ChunkingParams",
    "Document",
    "Embedder",
    "GroundedError",
    "Hit",
    "Index",
    "IndexCorruptedError",
    "IndexFolderError",
    "IndexMissingError",
    "IngestReport",
    "Manifest",
    "Mode",
    "ModelCard",
    "ModelLoadError",
    "ModelMismatchError",
    "OnnxPairModel",
    "PublishError",
    "QueryRuntime",
    "RayOptions",
    "RayServeOptions",
    "Sentence",
    "ShardUnavailableError",
    "check_model",
    "chunking_with",
    "connect",
    "content_terms",
    "current_version",
    "ingest",
    "is_acronym",
    "json_objects",
    "load_embedder",
    "load_index",
    "load_query_encoder",
    "load_ray_index",
    "model_choice",
    "ray_ingest",
    "set_faiss_threads",
    "shutdown_serving",
    "verify_folder",
    "verify_pair_model",
]
