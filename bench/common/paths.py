"""Where the harnesses find the repository (children run with it as their working folder)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root: ``bench/`` and the product packages sit directly under it."""
