"""Re-signed corruption: damage a data file, then fix up the manifest so every checksum passes.

Checksums stop accidental damage; they cannot stop a file written wrong by a bug (or by someone
who also rewrote the manifest). Then only the parsers stand between the bytes and the process, and
they must refuse or load, never crash the process, raise an unexpected exception, or allocate
without bound. Each case runs in a child process (``python -m bench.faults.fuzz``) under an
address-space limit, so a crash or a huge allocation costs only that child; the parent resumes
with the next case. A loaded damaged index also answers one query, to see whether the damage
surfaces later, at query time.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import random
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common.jsonl import json_line
from bench.common.paths import REPO
from bench.common.process import log
from bench.faults.ingest import child_environment
from bench.faults.report import CheckResult, Problems
from index import json_objects

ADDRESS_SPACE_HEADROOM = 4 * 1024**3
"""Address space a child may add on top of what it holds after importing everything."""

MAX_PEAK_GROWTH_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class FuzzConfig:
    """How many re-signed cases per data file, on which index, within what time."""

    index_dir: Path
    workdir: Path
    cases_per_file: int = 30
    seed: int = 11
    time_limit: float = 600.0


def _data_files(version_dir: Path) -> list[str]:
    return sorted(path.relative_to(version_dir).as_posix() for path in version_dir.rglob("*")
                  if path.is_file() and path.name != "manifest.json")


def _case(files: Sequence[str], seed: int, number: int, sizes: dict[str, int]) -> tuple[str, str, int, int]:
    """``(file, operation, offset, xor mask)`` of case ``number`` (deterministic)."""
    rng = random.Random(seed * 1_000_003 + number)  # noqa: S311 -- seeded test data, not secrets
    name = files[number % len(files)]
    size = sizes[name]
    if rng.random() < 0.2:
        return name, "truncate", rng.randrange(max(size, 1)), 0
    # Headers decide allocations: bias a third of the flips into the first 128 bytes.
    offset = rng.randrange(min(size, 128)) if rng.random() < 0.33 else rng.randrange(max(size, 1))
    return name, "flip", offset, rng.randint(1, 255)


def write_resigned_copy(case_root: Path, version_dir: Path, name: str, damaged: bytes) -> None:
    """Write a copy of ``version_dir`` with ``name`` replaced and the manifest re-signed."""
    from index.manifest import compute_index_version, manifest_from_json, manifest_to_json
    from index.records import FileEntry

    manifest_path = version_dir / "manifest.json"
    manifest = manifest_from_json(manifest_path.read_bytes(), manifest_path)
    files = dict(manifest.files)
    files[name] = FileEntry(sha256=hashlib.sha256(damaged).hexdigest(), size=len(damaged))
    resigned = dataclasses.replace(manifest, files=files, index_version="")
    resigned = dataclasses.replace(resigned, index_version=compute_index_version(resigned))
    target = case_root / "versions" / resigned.index_version
    shutil.copytree(version_dir, target)
    (target / name).write_bytes(damaged)
    (target / "manifest.json").write_bytes(manifest_to_json(resigned))
    (case_root / "CURRENT").write_text(resigned.index_version + "\n", encoding="ascii")


def _child(index_dir: Path, workdir: Path, seed: int, first: int, last: int) -> int:
    """Run cases ``first..last-1``, one JSON line each; exits when done."""
    from index.errors import IndexFolderError
    from index.layout import current_version
    from index.load import load_index
    from ingest.embedding import HashingEmbedder
    from service.engine import QueryEngine
    from service.records import Query

    version_dir = index_dir / "versions" / str(current_version(index_dir))
    files = _data_files(version_dir)
    sizes = {name: (version_dir / name).stat().st_size for name in files}
    embedder = HashingEmbedder(384)
    load_index(index_dir)  # imports and first allocations happen before the baseline
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with open("/proc/self/statm", encoding="ascii") as statm:
        virtual = int(statm.read().split()[0]) * resource.getpagesize()
    limit = virtual + ADDRESS_SPACE_HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    for number in range(first, last):
        name, operation, offset, mask = _case(files, seed, number, sizes)
        data = (version_dir / name).read_bytes()
        damaged = data[:offset] if operation == "truncate" else (
            data[:offset] + bytes([data[offset] ^ mask]) + data[offset + 1:])
        case_root = workdir / f"case-{number}"
        shutil.rmtree(case_root, ignore_errors=True)
        write_resigned_copy(case_root, version_dir, name, damaged)
        print(json_line({"case": number, "started": True}), flush=True)
        result = {"case": number, "file": name, "operation": operation, "offset": offset}
        started = time.perf_counter()
        try:
            index = load_index(case_root)
        except IndexFolderError as error:
            result["outcome"] = "refused"
            result["detail"] = str(error)[:300]
        except Exception as error:  # the finding: what leaked through
            result["outcome"] = "unexpected exception"
            result["detail"] = f"{type(error).__name__}: {str(error)[:300]}"
        else:
            result["outcome"] = "loaded"
            try:
                QueryEngine(index, embedder).query(Query(question="Officials said the council approved the plan"))
                result["query"] = "answered"
            except Exception as error:  # a damaged-but-loaded index failing later
                result["query"] = f"{type(error).__name__}: {str(error)[:200]}"
        result["seconds"] = round(time.perf_counter() - started, 4)
        result["peak_growth_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline
        shutil.rmtree(case_root, ignore_errors=True)
        print(json_line(result), flush=True)
    return 0


def run_resigned_fuzz(config: FuzzConfig) -> CheckResult:
    """Run every case in children, resuming after any child that dies; see the module docstring."""
    from index.layout import current_version

    started = time.monotonic()
    deadline = started + config.time_limit
    version = str(current_version(config.index_dir))
    files = _data_files(config.index_dir / "versions" / version)
    total = config.cases_per_file * len(files)
    workdir = config.workdir / "fuzz"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    problems = Problems()
    results: list[dict[str, object]] = []
    crashes: list[dict[str, object]] = []
    following = 0
    while following < total and time.monotonic() < deadline:
        command = [sys.executable, "-m", "bench.faults.fuzz", str(config.index_dir), str(workdir),
                   str(config.seed), str(following), str(total)]
        child = subprocess.Popen(command, cwd=REPO, env=child_environment(), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        in_flight: int | None = None
        try:
            stdout, stderr = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            stdout, stderr = child.communicate()
            problems.add(f"time limit reached at case {following}")
        for _, _, record in json_objects(stdout.splitlines(), source="the fuzz child's stdout"):
            if record.get("started"):
                in_flight = int(record["case"])
            else:
                results.append(record)
                in_flight = None
                following = int(record["case"]) + 1
        if child.returncode not in (0, None) and in_flight is not None:
            crashes.append({"case": in_flight, "returncode": child.returncode, "stderr": stderr[-400:]})
            problems.add(f"case {in_flight}: the loading process died with status {child.returncode}: "
                         f"{stderr.strip().splitlines()[-1:] or ''}")
            following = in_flight + 1
        elif child.returncode != 0:
            problems.add(f"fuzz child failed ({child.returncode}): {stderr[-400:]}")
            break
    outcomes = Counter(str(result["outcome"]) for result in results)
    query_failures = [result for result in results if str(result.get("query", "answered")) != "answered"]
    for result in results:
        where = f"case {result['case']} ({result['file']} {result['operation']}@{result['offset']})"
        problems.check(result["outcome"] != "unexpected exception", f"{where}: {result.get('detail')}")
        growth = int(str(result["peak_growth_bytes"]))
        problems.check(growth <= MAX_PEAK_GROWTH_BYTES, f"{where}: peak memory grew {growth / 2**20:.0f} MiB")
    slowest = max((float(str(result["seconds"])) for result in results), default=0.0)
    log(f"fuzz: {len(results)} re-signed cases: {dict(outcomes)}, {len(crashes)} crashes")
    summary = (f"{len(results) + len(crashes)} re-signed damaged files: refused {outcomes['refused']}, "
               f"loaded {outcomes['loaded']} (query failed on {len(query_failures)}), "
               f"unexpected exceptions {outcomes['unexpected exception']}, crashes {len(crashes)}")
    return CheckResult(
        name="corruption: re-signed files (parsers)", rounds=len(files),
        faults=len(results) + len(crashes), errors=problems.count, versions=(version,),
        seconds=time.monotonic() - started, summary=summary, problems=tuple(problems.kept),
        figures={"outcomes": dict(outcomes), "crashes": crashes, "slowest_case_seconds": slowest,
                 "query_failures_after_load": [
                     {key: result[key] for key in ("case", "file", "operation", "offset", "query")}
                     for result in query_failures[:20]],
                 "by_file": {name: dict(Counter(str(result["outcome"]) for result in results
                                                if result["file"] == name)) for name in files}},
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Child entry point: ``INDEX_DIR WORKDIR SEED FIRST LAST``."""
    parser = argparse.ArgumentParser(prog="python -m bench.faults.fuzz")
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("seed", type=int)
    parser.add_argument("first", type=int)
    parser.add_argument("last", type=int)
    args = parser.parse_args(argv)
    return _child(args.index_dir, args.workdir, args.seed, args.first, args.last)


if __name__ == "__main__":
    sys.exit(main())
