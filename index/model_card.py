"""The model-card check (``ingest.model_card``), re-exported for the layers above the index."""

from ingest import SHIPPED_MODELS, ModelCard, ModelLoadError, verify_folder

__all__ = ["SHIPPED_MODELS", "ModelCard", "ModelLoadError", "verify_folder"]
