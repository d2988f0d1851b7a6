"""Ingestion: files -> Document -> Chunk -> vectors. Imports nothing from index/service/eval."""
