"""The face of ``ingest``: the names other packages import (loaded lazily; see ``__init__.py``)."""

from .chunking import SplitDocument, split_document, token_counter
from .dedup import DroppedChunk, drop_near_duplicate_chunks, mark_duplicate_lines
from .embedding import (
    HASHING_PREFIX,
    Embedder,
    OnRows,
    PooledVectors,
    SentenceTransformerEmbedder,
    Spans,
    Vectors,
    load_embedder,
    resolve_model,
    text_key,
)
from .encoding import UTF8
from .errors import CorpusError, GroundedError, IngestError, ModelInstallError, ModelLoadError, OptionError
from .model_card import CARD_NAME, SHIPPED_MODELS, ModelCard, sha256_of, shipped_cards, verify_folder
from .model_install import install_model
from .models import PRESETS, grounded_home, preset_path
from .progress import Progress, RowTracker, StageLines, open_progress
from .readers import (
    DEFAULT_MAX_BYTES,
    CorpusRead,
    check_corpus_paths,
    corpus_files,
    gather_corpus,
    read_corpus,
    read_document,
)
from .records import Chunk, ChunkingParams, CodeBlock, Document, Heading, Region, Rejection, Sentence, chunking_with
from .sentence_vectors import Embedded, default_method, embed_texts, sentence_keys
from .vector_buffer import blocks, release

__all__ = [
    "CARD_NAME",
    "DEFAULT_MAX_BYTES",
    "HASHING_PREFIX",
    "PRESETS",
    "SHIPPED_MODELS",
    "UTF8",
    "Chunk",
    "ChunkingParams",
    "CodeBlock",
    "CorpusError",
    "CorpusRead",
    "Document",
    "DroppedChunk",
    "Embedded",
    "Embedder",
    "GroundedError",
    "Heading",
    "IngestError",
    "ModelCard",
    "ModelInstallError",
    "ModelLoadError",
    "OnRows",
    "OptionError",
    "PooledVectors",
    "Progress",
    "Region",
    "Rejection",
    "RowTracker",
    "Sentence",
    "SentenceTransformerEmbedder",
    "Spans",
    "SplitDocument",
    "StageLines",
    "Vectors",
    "blocks",
    "check_corpus_paths",
    "chunking_with",
    "corpus_files",
    "default_method",
    "drop_near_duplicate_chunks",
    "embed_texts",
    "gather_corpus",
    "grounded_home",
    "install_model",
    "load_embedder",
    "mark_duplicate_lines",
    "open_progress",
    "preset_path",
    "read_corpus",
    "read_document",
    "release",
    "resolve_model",
    "sentence_keys",
    "sha256_of",
    "shipped_cards",
    "split_document",
    "text_key",
    "token_counter",
    "verify_folder",
]
