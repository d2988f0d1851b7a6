"""Disk faults during ingest: a full disk (ENOSPC) and failing fsyncs must abort the new version.

Disk full: the index lives on a small tmpfs (mounted here when running as root; elsewhere each
file is capped with ``RLIMIT_FSIZE`` so writes fail with EFBIG, the closest unprivileged stand-in),
version A is published, the free space is cut to a fraction of what version B needs, and
``grounded ingest`` of corpus B runs. Fsync: the N-th ``os.fsync`` of the ingest child fails with
EIO, for N over every fsync a publish makes. Either way the run must fail with exit status 2 and
the published version must stay current, byte for byte, with no staging folder left; once the
fault is gone, a plain re-run publishes B.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.common.corpus import edit_corpus, write_corpus
from bench.common.process import log
from bench.faults.ingest import (
    IngestRun,
    folder_digest,
    leftovers,
    run_ingest,
    shim_launcher,
)
from bench.faults.report import CheckResult, Problems
from bench.faults.shim import FSYNC_COUNT_PREFIX
from index.errors import IndexFolderError
from index.layout import VERSIONS_NAME, current_version
from index.load import load_index

_ERRNO = re.compile(r"\[Errno \d+\] ([^.(:\]]+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class DiskConfig:
    """Corpus size and number of fault points."""

    workdir: Path
    documents: int = 30
    rounds: int = 12
    seed: int = 5
    time_limit: float = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Corpora:
    """Corpus A and its published index, corpus B (the ingest that meets the fault), B's version."""

    first: Path
    first_index: Path
    second: Path
    second_version: str
    second_bytes: int


def _prepare(root: Path, config: DiskConfig) -> Corpora:
    first, second = root / "corpus-a", root / "corpus-b"
    write_corpus(first, config.documents, config.seed)
    shutil.copytree(first, second)
    edit_corpus(second, config.seed + 1, fraction=0.3)
    probe = root / "probe-index"
    run = run_ingest(second, probe)
    if run.version is None:
        raise RuntimeError(f"ingest of corpus B failed: {run.stderr[-500:]}")
    size = sum(path.stat().st_size for path in (probe / VERSIONS_NAME / run.version).rglob("*") if path.is_file())
    shutil.rmtree(probe)
    first_index = root / "index-a"
    if run_ingest(first, first_index).version is None:
        raise RuntimeError(f"ingest of corpus A into {first_index} failed")
    return Corpora(first=first, first_index=first_index, second=second, second_version=run.version,
                   second_bytes=size)


def _fresh_index(corpora: Corpora, index_dir: Path) -> tuple[str, dict[str, str]]:
    """A copy of the index of corpus A at ``index_dir``; returns its version and the folder digest."""
    if index_dir.exists():
        shutil.rmtree(index_dir)
    shutil.copytree(corpora.first_index, index_dir)
    version = str(current_version(index_dir))
    return version, folder_digest(index_dir / VERSIONS_NAME / version)


def _judge(problems: Problems, label: str, run: IngestRun, *, index_dir: Path, old: str,
           old_files: dict[str, str], new: str) -> str:
    """Check the state after a faulty run; returns ``failed``, ``published`` or ``violation``."""
    if run.returncode == 0:
        ok = problems.check(run.version == new and current_version(index_dir) == new,
                            f"{label}: exit 0 but the index is not at the new version")
        return "published" if ok else "violation"
    before = problems.count
    problems.check(run.returncode == 2, f"{label}: exit status {run.returncode}, expected 2: {run.stderr[-300:]}")
    problems.check(run.stderr.startswith("grounded: error:"), f"{label}: no one-line error: {run.stderr[-300:]}")
    if problems.check(current_version(index_dir) == old,
                      f"{label}: the failed run left {current_version(index_dir)} current, not {old} "
                      f"(it said: {run.stderr.splitlines()[0][:200] if run.stderr else ''})"):
        try:
            problems.check(load_index(index_dir).index_version == old, f"{label}: loads another version")
        except IndexFolderError as error:
            problems.add(f"{label}: the index does not load after the fault: {error}")
    if (index_dir / VERSIONS_NAME / old).is_dir():
        problems.check(folder_digest(index_dir / VERSIONS_NAME / old) == old_files,
                       f"{label}: the published version's files changed")
    else:
        problems.add(f"{label}: the published version's folder is gone")
    problems.check(not any("staging" in item for item in leftovers(index_dir)),
                   f"{label}: staging folder left behind: {leftovers(index_dir)}")
    return "failed" if problems.count == before else "violation"


@contextlib.contextmanager
def _tmpfs(mount_point: Path, size_bytes: int) -> Iterator[bool]:
    """Mount a tmpfs of ``size_bytes`` (True), or yield False when mounting is not permitted."""
    mount_point.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        yield False
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(mount_point)],
                             capture_output=True, check=False).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            # Indexes loaded during the check keep their files open (pread) until collected.
            gc.collect()
            if subprocess.run(["umount", str(mount_point)], capture_output=True, check=False).returncode != 0:
                # Still busy (a descriptor not yet released): detach it; it goes when the last one closes.
                subprocess.run(["umount", "--lazy", str(mount_point)], capture_output=True, check=False)


def _fill(mount_point: Path, leave_free: int) -> None:
    """Grow a filler file until only ``leave_free`` bytes of the file system stay free."""
    stats = os.statvfs(mount_point)
    free = stats.f_bavail * stats.f_frsize
    with open(mount_point / "filler", "ab") as filler:
        filler.write(b"\0" * max(0, free - leave_free))


def run_disk_full(config: DiskConfig) -> CheckResult:
    """ENOSPC (tmpfs) or EFBIG (file-size limit) at many points of a publish."""
    started = time.monotonic()
    root = config.workdir / "disk-full"
    shutil.rmtree(root, ignore_errors=True)
    corpora = _prepare(root, config)
    problems = Problems()
    outcomes: list[str] = []
    messages: set[str] = set()
    mount_point = root / "mount"
    # Room for A, B and a spare copy; rounds then leave 0 .. 110 % of B's size free.
    with _tmpfs(mount_point, corpora.second_bytes * 4 + 4 * 1024 * 1024) as mounted:
        method = "tmpfs ENOSPC" if mounted else "RLIMIT_FSIZE EFBIG"
        base = mount_point if mounted else root
        for number in range(config.rounds):
            if time.monotonic() - started > config.time_limit:
                problems.add(f"time limit reached after {number} rounds")
                break
            index_dir = base / "index"
            old, old_files = _fresh_index(corpora, index_dir)
            fraction = 1.1 * number / max(1, config.rounds - 1)
            if mounted:
                (base / "filler").unlink(missing_ok=True)
                _fill(base, int(corpora.second_bytes * fraction))
                run = run_ingest(corpora.second, index_dir)
            else:
                limit = max(1, int(corpora.second_bytes * fraction / 6))
                run = run_ingest(corpora.second, index_dir, launcher=shim_launcher(file_size_limit=limit))
            label = f"round {number} ({method}, {fraction:.0%} of B free)"
            outcomes.append(_judge(problems, label, run, index_dir=index_dir, old=old, old_files=old_files,
                                   new=corpora.second_version))
            if run.returncode != 0:
                messages.update(match.group(1).strip() for match in _ERRNO.finditer(run.stderr))
            if mounted:
                (base / "filler").unlink(missing_ok=True)
            recovered = run_ingest(corpora.second, index_dir)
            problems.check(recovered.version == corpora.second_version and not leftovers(index_dir),
                           f"{label}: the re-run after the fault did not publish B cleanly: {recovered.stderr[-200:]}")
            log(f"disk full round {number + 1}/{config.rounds}: {label}: {outcomes[-1]}")
    failed = outcomes.count("failed")
    summary = (f"{method}: {failed} ingests failed cleanly (exit 2, old version intact), "
               f"{outcomes.count('published')} had room and published; re-runs recovered")
    return CheckResult(
        name="disk full during ingest", rounds=len(outcomes), faults=failed, errors=problems.count,
        versions=(str(current_version(corpora.first_index)), corpora.second_version),
        seconds=time.monotonic() - started,
        summary=summary if not problems.count else f"{method}: {problems.count} violations",
        problems=tuple(problems.kept),
        figures={"method": method, "version_b_bytes": corpora.second_bytes, "outcomes": outcomes,
                 "error_messages": sorted(messages)},
    )


def _fsync_calls(stderr: str) -> int:
    for line in stderr.splitlines():
        if line.startswith(FSYNC_COUNT_PREFIX):
            return int(line.removeprefix(FSYNC_COUNT_PREFIX))
    return 0


def run_fsync_failures(config: DiskConfig) -> CheckResult:
    """Fail each fsync of a publish in turn (EIO)."""
    started = time.monotonic()
    root = config.workdir / "fsync"
    shutil.rmtree(root, ignore_errors=True)
    corpora = _prepare(root, config)
    index_dir = root / "index"
    _fresh_index(corpora, index_dir)
    counted = run_ingest(corpora.second, index_dir, launcher=shim_launcher())
    total = _fsync_calls(counted.stderr)
    problems = Problems()
    problems.check(total > 0, f"no fsync counted in a publish: {counted.stderr[-300:]}")
    # Every call when there are few; else an even spread that always includes the last one.
    points = sorted({max(1, round(total * step / max(1, config.rounds - 1))) for step in range(config.rounds)}
                    | {1, total}) if total else []
    outcomes: dict[int, str] = {}
    for point in points:
        if time.monotonic() - started > config.time_limit:
            problems.add(f"time limit reached before fsync {point}")
            break
        old, old_files = _fresh_index(corpora, index_dir)
        run = run_ingest(corpora.second, index_dir, launcher=shim_launcher(fail_fsync_at=point))
        label = f"fsync {point}/{total} fails"
        outcomes[point] = _judge(problems, label, run, index_dir=index_dir, old=old, old_files=old_files,
                                   new=corpora.second_version)
        recovered = run_ingest(corpora.second, index_dir)
        problems.check(recovered.version == corpora.second_version and not leftovers(index_dir),
                       f"{label}: the re-run did not publish B cleanly: {recovered.stderr[-200:]}")
        log(f"fsync failure {point}/{total}: {outcomes[point]}")
    failed = sum(1 for outcome in outcomes.values() if outcome == "failed")
    summary = (f"{failed} of {len(outcomes)} fsync failures (of {total} per publish) aborted cleanly"
               if not problems.count else
               f"{problems.count} violations at fsync "
               f"{', '.join(str(point) for point, outcome in outcomes.items() if outcome != 'failed')} of {total}")
    return CheckResult(
        name="fsync failure during ingest", rounds=len(outcomes), faults=len(outcomes), errors=problems.count,
        versions=(str(current_version(corpora.first_index)), corpora.second_version),
        seconds=time.monotonic() - started, summary=summary,
        problems=tuple(problems.kept),
        figures={"fsync_calls_per_publish": total,
                 "outcomes": {str(point): outcome for point, outcome in outcomes.items()}},
    )
