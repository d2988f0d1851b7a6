"""Index: the published index folder (FAISS + BM25 + records + manifest) and search over it."""
