"""The face of ``training``: its three training commands (loaded lazily; see ``__init__.py``)."""

from . import biencoder, reranker, verifier

__all__ = ["biencoder", "reranker", "verifier"]
