"""Folders the tests read: the repository root, the seed corpus, the fixtures, shared corpora."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEED_CORPUS = REPO / "data" / "corpus"
FIXTURES = REPO / "tests" / "fixtures"
PRODUCT = ("text", "ingest", "index", "ranking", "grounding", "service", "eval", "training", "grounded")
"""The product's top-level packages, bottom layer first (harnesses and tests are not product)."""


def _news_distractors() -> Path:
    """``$GROUNDED_NEWS_DISTRACTORS``, else ``shared/corpora/news-distractors`` beside the checkout."""
    configured = os.environ.get("GROUNDED_NEWS_DISTRACTORS")
    if configured:
        return Path(configured)
    candidates = [base / "shared" / "corpora" / "news-distractors"
                  for base in (REPO.parent, REPO.parent.parent)]
    return next((path for path in candidates if path.is_dir()), candidates[0])


# Development-only corpus beside the checkout (never vendored); tests skip when it is absent.
NEWS_DISTRACTORS = _news_distractors()
# Real PDF manuals from Debian packages, fetched by `make pdf-corpus` (scripts/fetch-pdf-corpus.sh).
PDF_CORPUS = Path(os.environ.get("GROUNDED_PDF_CORPUS") or REPO / "var" / "corpora" / "pdf")
