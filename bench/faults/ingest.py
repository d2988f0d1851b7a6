"""Shared edges of the reliability checks: run ``grounded ingest`` as a child, inspect index folders."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common.paths import REPO
from index.fsutil import TRASH_PREFIX
from index.layout import CURRENT_NAME, STAGING_PREFIX, VERSIONS_NAME
from index.unsharded import read_manifest

MODEL = "hashing:384"
"""The fast deterministic embedder: the checks exercise the data path, not the model."""


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every child: offline hub, the repository importable, one thread each."""
    return {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1", **(extra or {})}


GROUNDED = (sys.executable, "-m", "grounded")


def ingest_command(corpus: Path, index_dir: Path, *, as_json: bool = False,
                   launcher: Sequence[str] = GROUNDED) -> list[str]:
    """``grounded ingest CORPUS --index DIR --model hashing:384 [--json]`` as an argument list."""
    command = [*launcher, "ingest", str(corpus), "--index", str(index_dir), "--model", MODEL]
    return [*command, "--json"] if as_json else command


def shim_launcher(*, fail_fsync_at: int = 0, file_size_limit: int = 0) -> list[str]:
    """``grounded`` run through ``bench.faults.shim`` with the given disk faults."""
    return [sys.executable, "-m", "bench.faults.shim", "--fail-fsync-at", str(fail_fsync_at),
            "--file-size-limit", str(file_size_limit), "--"]


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestRun:
    """A finished ``grounded ingest`` child: exit status, wall time, its JSON report, stderr."""

    returncode: int
    seconds: float
    report: dict[str, object] | None
    stderr: str

    @property
    def version(self) -> str | None:
        """The published (or unchanged) index version the run reported."""
        if self.report is None:
            return None
        version = self.report.get("index_version")
        return version if isinstance(version, str) else None


def run_ingest(corpus: Path, index_dir: Path, *, timeout: float = 600.0,
               launcher: Sequence[str] = GROUNDED) -> IngestRun:
    """Run ``grounded ingest --json`` to completion (``launcher`` may be a fault shim)."""
    command = ingest_command(corpus, index_dir, as_json=True, launcher=launcher)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, env=child_environment(), capture_output=True,
                            text=True, timeout=timeout, check=False)
    seconds = time.perf_counter() - started
    report = None
    if result.returncode == 0:
        parsed = json.loads(result.stdout)
        report = parsed if isinstance(parsed, dict) else None
    return IngestRun(returncode=result.returncode, seconds=seconds, report=report,
                     stderr=result.stderr.strip())


def leftovers(index_dir: Path) -> list[str]:
    """Interrupted-publish debris: ``versions/.staging-*``, ``versions/.trash-*``, ``.CURRENT.tmp-*``."""
    found = [path.name for path in index_dir.glob(f".{CURRENT_NAME}.tmp-*")]
    versions = index_dir / VERSIONS_NAME
    if versions.is_dir():
        found.extend(f"{VERSIONS_NAME}/{path.name}" for path in versions.iterdir()
                     if path.name.startswith((STAGING_PREFIX, TRASH_PREFIX)))
    return sorted(found)


def finished_versions(index_dir: Path) -> list[str]:
    """Names of the complete version folders under ``versions/``."""
    versions = index_dir / VERSIONS_NAME
    if not versions.is_dir():
        return []
    return sorted(path.name for path in versions.iterdir()
                  if path.is_dir() and not path.name.startswith("."))


def folder_digest(folder: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every file under ``folder`` (byte-identity check)."""
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def corpus_hashes(corpus: Path) -> dict[str, str]:
    """``doc_id -> sha256`` of the corpus's ``.txt`` files, as ingest names and hashes them."""
    return {path.relative_to(corpus).with_suffix("").as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(corpus.rglob("*.txt"))}


def manifest_hashes(index_dir: Path) -> dict[str, str] | None:
    """``doc_id -> content_hash`` of the current, fully verified version (None when there is none)."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        return None
    return {entry.doc_id: entry.content_hash for entry in manifest.documents}
