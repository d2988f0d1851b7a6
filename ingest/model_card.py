"""Model cards of the models grounded ships (``models/<name>/card.json``), checked when loaded.

A card names the model, its base model, the training data (its sha256 and split), the command that
trained it, its held-out figures and the sha256 of every file it ships; ``verify_folder`` checks
those hashes the way the index manifest's are checked. ``README.md`` beside it is the same card
for people (the Hugging Face convention).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import ModelLoadError

CARD_NAME = "card.json"
SHIPPED_MODELS = Path(__file__).resolve().parent.parent / "models"
"""The repository's ``models/``: every folder in it is a model grounded trained, with its card."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCard:
    """The machine-readable card of a shipped model."""

    name: str
    version: str
    task: str
    base_model: str
    max_length: int
    sha256: dict[str, str]
    data: dict[str, Any]
    training: dict[str, Any]
    figures: dict[str, Any]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_card(folder: Path) -> ModelCard:
    """The card of a model folder; ``ModelLoadError`` when it is missing or malformed."""
    path = folder / CARD_NAME
    if not path.is_file():
        raise ModelLoadError(f"{folder} has no {CARD_NAME}: not a grounded model folder "
                             "(models/ ships them; `grounded models list` shows them)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return ModelCard(name=str(raw["name"]), version=str(raw["version"]), task=str(raw["task"]),
                         base_model=str(raw["base_model"]), max_length=int(raw["max_length"]),
                         sha256=dict(raw["sha256"]), data=dict(raw["data"]), training=dict(raw["training"]),
                         figures=dict(raw["figures"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ModelLoadError(f"{path} is not a valid model card ({error}); restore it from git") from error


def shipped_cards() -> list[tuple[Path, ModelCard]]:
    """Every shipped model folder with its card, each verified (``ModelLoadError`` names a damaged one)."""
    return [(path.parent, verify_folder(path.parent)) for path in sorted(SHIPPED_MODELS.glob(f"*/{CARD_NAME}"))]


def verify_folder(folder: Path) -> ModelCard:
    """The card, after checking that every file it lists is present and has its sha256."""
    card = read_card(folder)
    if not card.sha256:
        raise ModelLoadError(f"{folder / CARD_NAME} lists no file hashes; restore the folder")
    for name, expected in sorted(card.sha256.items()):
        path = folder / name
        if not path.is_file():
            raise ModelLoadError(f"{folder} lacks {name}, which its card lists; restore the folder (git checkout)")
        actual = sha256_of(path)
        if actual != expected:
            raise ModelLoadError(f"{path} has sha256 {actual[:12]}…, its card says {expected[:12]}…: the file is "
                                 "damaged or was replaced; restore it (git checkout) or retrain")
    return card
