"""Evaluation settings (a corpus plus gold files) and the index cache that builds each one once.

A setting's index is built by the product's own ingest (``index.build.ingest``) into
``<work>/<setting name>/index`` and is keyed by the corpus file list with content hashes, the
model and the chunking parameters: an unchanged key reuses the index without reading the corpus
again, a changed one re-ingests into the same folder, so unchanged texts keep their vectors.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

from eval.errors import EvalError
from eval.gold import GoldQuestion, Split, default_gold_path, load_gold
from eval.records import EvalResult
from eval.splits import select_split
from index import ChunkingParams, Embedder, current_version, ingest

SPLITS = ("tune", "test", "all")
SEEDS = "seeds"
SEEDS_DISTRACTORS = "seeds+distractors"
DOCS = "docs"
DISTRACTORS_ENV = "GROUNDED_DISTRACTORS"
"""Environment override of the distractor folder (else ``../shared/corpora/news-distractors``)."""
_KEY_NAME = "setting-key.json"
_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """A named corpus (folders or single files, in order) and the gold files asked against it."""

    name: str
    corpus: tuple[Path, ...]
    gold: tuple[Path, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingRun:
    """One setting's scored result (``eval.suite.run_plan``), its question counts and how its index was obtained."""

    setting: Setting
    result: EvalResult
    split: str
    left_out: int
    built: bool
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SplitGold:
    """Gold questions of one setting after the split filter, and how many the filter left out."""

    questions: tuple[GoldQuestion, ...]
    left_out: int


# ------------------------------------------------------------------------------------ gold split

def read_split(path: Path, split: str) -> SplitGold:
    """The questions of the gold file ``path`` in ``split`` (``all`` keeps every one;
    ``eval.splits.select_split`` picks the others).

    Raises ``EvalError`` when a file has no split fields and a split other than ``all`` was asked
    for: a silently empty test set would pass every gate.
    """
    if split not in SPLITS:
        raise EvalError(f"--split {split!r}: use one of {', '.join(SPLITS)}")
    questions = load_gold(path)
    if split == "all":
        return SplitGold(questions=questions, left_out=0)
    if questions and all(question.split is None for question in questions):
        raise EvalError(f"gold file {path} gives no 'split' for its questions; pass --split all "
                        "or use a gold file with tune/test splits")
    kept = select_split(questions, cast(Split, split))
    return SplitGold(questions=kept, left_out=len(questions) - len(kept))


def index_gold(paths: Sequence[Path], split: str) -> tuple[GoldQuestion, ...]:
    """The ``--index`` mode's questions: every file's ``split`` part (the shipped set by default)."""
    return tuple(question for path in (paths or [default_gold_path()])
                 for question in read_split(path, split).questions)


# ------------------------------------------------------------------------------------- corpora

def default_distractor_folder(repo_root: Path) -> Path:
    """``$GROUNDED_DISTRACTORS`` or ``<repo root>/../shared/corpora/news-distractors``."""
    override = os.environ.get(DISTRACTORS_ENV)
    if override:
        return Path(override)
    return repo_root.resolve().parent / "shared" / "corpora" / "news-distractors"


def corpus_files(folder: Path) -> list[Path]:
    """The readable corpus files under a folder (what ingest reads), sorted by relative path."""
    return sorted((path for path in folder.rglob("*")
                   if path.is_file() and path.suffix.lower() in _SUFFIXES
                   and not any(part.startswith(".") for part in path.relative_to(folder).parts)),
                  key=lambda path: path.relative_to(folder).as_posix())


def stable_order_key(name: str) -> str:
    """Distractor subset order: SHA-256 of the file's relative name (mixes every section)."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def distractor_subset(folders: Sequence[Path], limit: int | None,
                      required: Iterable[str] = ()) -> tuple[Path, ...]:
    """The distractor files to mix in: all, or ``limit`` of them chosen deterministically.

    The subset holds every file whose stem is in ``required`` (documents the gold evidence cites;
    a question whose evidence is not indexed measures nothing) and fills up to ``limit`` with the
    other files in ``stable_order_key`` order. Returned sorted by path.
    """
    files = [path for folder in folders for path in corpus_files(folder)]
    if limit is None or limit >= len(files):
        return tuple(sorted(files))
    if limit < 0:
        raise EvalError(f"--distractor-limit {limit}: pass a number of files, 0 or more")
    wanted = set(required)
    chosen = [path for path in files if path.stem in wanted]
    rest = sorted((path for path in files if path.stem not in wanted),
                  key=lambda path: stable_order_key(path.name))
    chosen += rest[: max(0, limit - len(chosen))]
    return tuple(sorted(chosen))


def cited_documents(gold_files: Iterable[Path]) -> set[str]:
    """Every ``doc_id`` a gold file's evidence names (all splits: the corpus is the same)."""
    doc_ids: set[str] = set()
    for path in gold_files:
        doc_ids.update(doc_id for question in load_gold(path) for doc_id in question.doc_ids)
    return doc_ids


# ----------------------------------------------------------------------------------- the cache

def setting_key(setting: Setting, *, model_id: str, params: ChunkingParams) -> dict[str, object]:
    """What decides a setting's index: each corpus file's name and content hash, model, chunking."""
    files: list[list[str]] = []
    for given in setting.corpus:
        members = corpus_files(given) if given.is_dir() else [given]
        root = given if given.is_dir() else given.parent
        for path in members:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            files.append([path.relative_to(root).as_posix(), digest])
    return {"files": files, "model_id": model_id, "chunking": asdict(params)}


def build_setting_index(setting: Setting, work: Path, embedder: Embedder, *,
                        params: ChunkingParams | None = None,
                        progress: bool = False) -> tuple[Path, bool]:
    """The setting's index folder under ``work``, ingested only when its key changed.

    Returns ``(index folder, built)``; ``built`` is False when the cached index was reused.
    """
    params = params or ChunkingParams()
    folder = work / folder_name(setting.name)
    index_folder = folder / "index"
    key = setting_key(setting, model_id=embedder.model_id, params=params)
    key_path = folder / _KEY_NAME
    if (current_version(index_folder) is not None and key_path.exists()
            and json.loads(key_path.read_text(encoding="utf-8")) == key):
        return index_folder, False
    folder.mkdir(parents=True, exist_ok=True)
    ingest(list(setting.corpus), index_folder, embedder, params=params, progress=progress)
    key_path.write_text(json.dumps(key, indent=0) + "\n", encoding="utf-8")
    return index_folder, True


def folder_name(name: str) -> str:
    """A file-system-safe folder name for a setting (``seeds+distractors`` stays readable)."""
    return "".join(character if character.isalnum() or character in "+-_." else "_"
                   for character in name)
