"""Training data and training commands for grounded's own models (reranker, answer reader, verifier)."""
