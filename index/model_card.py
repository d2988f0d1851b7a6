"""The model-card check (``ingest.model_card``), re-exported for the layers above the index."""

from ingest.errors import ModelLoadError
from ingest.model_card import CARD_NAME, ModelCard, read_card, sha256_of, verify_folder

__all__ = ["CARD_NAME", "ModelCard", "ModelLoadError", "read_card", "sha256_of", "verify_folder"]
