"""Folders the tests read: the repository root, the seed corpus, the fixtures."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEED_CORPUS = REPO / "data" / "corpus"
FIXTURES = REPO / "tests" / "fixtures"
