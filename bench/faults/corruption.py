"""Corruption sweep: flipped bytes and truncations of every file of a published version must be refused.

Each damaged file is loaded in this process with ``load_index``; the rule is that every load raises
``IndexCorruptedError`` (never succeeds, never raises anything else), that no data file is parsed
before every checksum passed, and that peak memory stays flat. After each case the file gets its
original bytes back, which is the same as starting from a fresh copy (the sweep checks the whole
folder is byte-identical at the end).
"""

from __future__ import annotations

import random
import resource
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common.corpus import write_corpus
from bench.common.process import log
from bench.faults.ingest import folder_digest
from bench.faults.report import CheckResult, Problems
from index import build
from index import unsharded as loader
from index.errors import IndexCorruptedError, IndexFolderError
from index.layout import CURRENT_NAME, VERSIONS_NAME, current_version
from index.load import load_index
from ingest.embedding import HashingEmbedder

PARSERS = ("_read_records", "read_dense", "load_sparse")
"""``index.load`` names that parse data files: none may run on a version that failed its checksums."""

MAX_RSS_GROWTH_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepConfig:
    """Size of the swept index and how many faults each file gets."""

    workdir: Path
    documents: int = 12
    flips_per_file: int = 100
    random_truncations: int = 3
    seed: int = 7
    time_limit: float = 900.0


def build_small_index(root: Path, documents: int, seed: int) -> Path:
    """A generated corpus ingested (hashing embedder) into ``root/index``; returns the index folder."""
    corpus = root / "corpus"
    write_corpus(corpus, documents, seed)
    index_dir = root / "index"
    build.ingest([corpus], index_dir, HashingEmbedder(384))
    return index_dir


def swept_files(index_dir: Path) -> list[Path]:
    """``CURRENT`` and every file of the current version (manifest first)."""
    version = current_version(index_dir)
    if version is None:
        raise ValueError(f"{index_dir} has no current version")
    folder = index_dir / VERSIONS_NAME / version
    data = sorted(path for path in folder.rglob("*") if path.is_file() and path.name != "manifest.json")
    return [index_dir / CURRENT_NAME, folder / "manifest.json", *data]


@contextmanager
def counting_parsers() -> Iterator[list[int]]:
    """Count calls of the data-file parsers of ``index.unsharded`` while the block runs."""
    calls = [0]
    originals = {name: getattr(loader, name) for name in PARSERS}

    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            return function(*args, **kwargs)
        return counted

    for name, function in originals.items():
        setattr(loader, name, wrap(function))
    try:
        yield calls
    finally:
        for name, function in originals.items():
            setattr(loader, name, function)


def detection_kind(error: IndexCorruptedError) -> str:
    """How a damaged load was refused, from the error message."""
    message = str(error)
    for needle, kind in (("does not match its checksum", "checksum"), ("is malformed", "manifest parse"),
                         ("does not name an index version", "CURRENT"), ("does not exist", "CURRENT"),
                         ("is missing", "missing file")):
        if needle in message:
            return kind
    return "other"


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def damaged_variants(data: bytes, flips: int, truncations: int, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """``(label, bytes)``: ``flips`` single-byte changes at random offsets, then truncations."""
    if data:
        for _ in range(flips):
            offset = rng.randrange(len(data))
            value = data[offset] ^ rng.randint(1, 255)
            yield f"flip@{offset}", data[:offset] + bytes([value]) + data[offset + 1:]
    lengths = {0, 1, len(data) // 2, len(data) - 1} | {rng.randrange(len(data)) for _ in range(truncations) if data}
    for length in sorted(length for length in lengths if 0 <= length < len(data)):
        yield f"truncate@{length}", data[:length]
    yield "append", data + b"\n"


def run_corruption_sweep(config: SweepConfig) -> CheckResult:
    """Flip and truncate every file; see the module docstring."""
    started = time.monotonic()
    deadline = started + config.time_limit
    root = config.workdir / "corruption"
    shutil.rmtree(root, ignore_errors=True)
    index_dir = build_small_index(root, config.documents, config.seed)
    version = str(current_version(index_dir))
    pristine = folder_digest(index_dir)
    load_index(index_dir)
    rng = random.Random(config.seed)  # noqa: S311 -- seeded test data, not secrets
    problems = Problems()
    kinds: Counter[str] = Counter()
    per_file: dict[str, int] = {}
    cases = 0
    slowest = 0.0
    rss_before = peak_rss_bytes()
    with counting_parsers() as parsed:
        for path in swept_files(index_dir):
            original = path.read_bytes()
            name = path.relative_to(index_dir).as_posix().replace(f"{VERSIONS_NAME}/{version}/", "")
            per_file[name] = 0
            for label, damaged in damaged_variants(original, config.flips_per_file,
                                                   config.random_truncations, rng):
                if time.monotonic() > deadline:
                    problems.add(f"time limit reached at {name} {label}")
                    break
                path.write_bytes(damaged)
                before = parsed[0]
                load_started = time.perf_counter()
                try:
                    load_index(index_dir)
                    problems.add(f"{name} {label}: the damaged index loaded")
                except IndexCorruptedError as error:
                    kinds[detection_kind(error)] += 1
                except Exception as error:  # any other exception is the finding
                    problems.add(f"{name} {label}: {type(error).__name__} instead of IndexCorruptedError: {error}")
                finally:
                    path.write_bytes(original)
                slowest = max(slowest, time.perf_counter() - load_started)
                problems.check(parsed[0] == before, f"{name} {label}: a data file was parsed before verification")
                cases += 1
                per_file[name] += 1
            log(f"corruption: {name}: {per_file[name]} damaged copies refused")
    rss_growth = peak_rss_bytes() - rss_before
    problems.check(rss_growth <= MAX_RSS_GROWTH_BYTES,
                   f"peak memory grew by {rss_growth / 2**20:.0f} MiB during the sweep")
    problems.check(folder_digest(index_dir) == pristine, "the index folder was not restored byte for byte")
    try:
        problems.check(load_index(index_dir).index_version == version, "restored index loads another version")
    except IndexFolderError as error:
        problems.add(f"restored index does not load: {error}")
    summary = (f"{cases} damaged copies of {len(per_file)} files, all refused "
               f"({', '.join(f'{kind} {count}' for kind, count in kinds.most_common())}); "
               f"slowest refusal {slowest * 1000:.0f} ms, peak RSS +{rss_growth / 2**20:.0f} MiB"
               if not problems.count else f"{problems.count} damaged copies not refused correctly")
    return CheckResult(
        name="corruption: flips + truncations", rounds=len(per_file), faults=cases, errors=problems.count,
        versions=(version,), seconds=time.monotonic() - started, summary=summary,
        problems=tuple(problems.kept),
        figures={"cases_per_file": per_file, "detected_by": dict(kinds), "flips_per_file": config.flips_per_file,
                 "slowest_refusal_ms": round(slowest * 1000, 2), "peak_rss_growth_bytes": rss_growth},
    )
