"""``grounded bench startup``: process start to ``/ready``, with an empty ONNX cache and then with it filled.

Each round gives one index a fresh, empty ONNX cache folder (``GROUNDED_ONNX_CACHE``; installed
models stay where they are), starts ``grounded serve`` on it and waits for ``/ready`` (the first
start: it exports the query encoder and fills the cache), stops it, and starts it again on the
same folder (the second start: it reads the export back). Rounds alternate first and second
starts so that a change in the machine's load falls on both; the table reports the median of the
rounds and, per start, which encoder the server said it used, so a second start that did not hit
the cache shows as such instead of passing for a slow hit.
"""

from __future__ import annotations

import re
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common.process import cpu_seconds, log
from bench.common.results import format_table
from bench.common.server import Server, ServerError
from index.onnx_cache import ONNX_CACHE_ENV

_SIZE = re.compile(r"\((\d+) documents, (\d+) chunks")
_ENCODERS = (("export read from the cache", "cache"), ("exported now", "export"))


@dataclass(frozen=True, slots=True, kw_only=True)
class StartupBenchConfig:
    """Which indexes to start, how many rounds, and the server's threads."""

    indexes: tuple[Path, ...]
    rounds: int = 3
    threads: int = 1
    ready_timeout_seconds: float = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadyLine:
    """What ``grounded serve``'s ready line says: the index's size and where the query encoder came from."""

    documents: int | None
    chunks: int | None
    encoder: str
    """``cache`` (export read from the ONNX cache), ``export`` (exported at this start) or ``torch``."""


def parse_ready_line(line: str | None) -> ReadyLine:
    """Read the index size and the encoder's origin from ``grounded: ready in ...`` (``torch`` when absent)."""
    text = line or ""
    size = _SIZE.search(text)
    encoder = next((name for phrase, name in _ENCODERS if phrase in text), "torch")
    return ReadyLine(documents=int(size.group(1)) if size else None,
                     chunks=int(size.group(2)) if size else None, encoder=encoder)


def run_startup_bench(config: StartupBenchConfig) -> dict[str, Any]:
    """Time ``config.rounds`` first and second starts of every index; medians per index."""
    if config.rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {config.rounds}")
    indexes = []
    for index_dir in config.indexes:
        rounds = []
        for number in range(1, config.rounds + 1):
            with tempfile.TemporaryDirectory(prefix="grounded-onnx-cache-") as cache:
                first = _start(index_dir, Path(cache), config)
                second = _start(index_dir, Path(cache), config)
            log(f"startup {index_dir} round {number}: first {first['process_start_to_ready_s']:.2f} s "
                f"({first['encoder']}, CPU {first['cpu_s']} s), second {second['process_start_to_ready_s']:.2f} s "
                f"({second['encoder']}, CPU {second['cpu_s']} s)")
            rounds.append({"first": first, "second": second})
        indexes.append({"index": str(index_dir), "documents": rounds[0]["first"]["documents"],
                        "chunks": rounds[0]["first"]["chunks"], "rounds": rounds,
                        "median": {start: _medians([round_[start] for round_ in rounds])
                                   for start in ("first", "second")}})
    return {"rounds": config.rounds, "threads": config.threads, "indexes": indexes}


def _start(index_dir: Path, cache: Path, config: StartupBenchConfig, *, attempts: int = 3) -> dict[str, Any]:
    """One server start on ``cache``: seconds to ``/ready``, the ready line, CPU, memory.

    The server prints its ready line before it listens, so a ``/ready`` 200 without that line
    came from another process that took the port after it was chosen (the machine is shared):
    that start is discarded and made again on another port.
    """
    for attempt in range(1, attempts + 1):
        with Server(index_dir, threads=config.threads, ready_timeout=config.ready_timeout_seconds,
                    extra_env={ONNX_CACHE_ENV: str(cache)}) as server:
            report = server.ready_report()
            cpu = cpu_seconds(server.process.pid)
        if report["ready_log_line"] is not None:
            ready = parse_ready_line(report["ready_log_line"])
            return {**report, "cpu_s": cpu, "documents": ready.documents, "chunks": ready.chunks,
                    "encoder": ready.encoder, "attempts": attempt}
        log(f"startup {index_dir}: /ready answered on port {server.port} before the server printed its ready "
            "line (another process on that port?); starting again")
    raise ServerError(f"{attempts} starts on {index_dir} were answered by something else; is the machine's "
                      "port range exhausted?")


def _medians(starts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Median seconds (process start to ``/ready``, as the server printed, of CPU) and resident memory."""
    printed = [start["reported_ready_s"] for start in starts if start["reported_ready_s"] is not None]
    cpu = [start["cpu_s"] for start in starts if start.get("cpu_s") is not None]
    return {"process_start_to_ready_s": round(statistics.median(s["process_start_to_ready_s"] for s in starts), 3),
            "reported_ready_s": round(statistics.median(printed), 3) if printed else None,
            "cpu_s": round(statistics.median(cpu), 3) if cpu else None,
            "rss_bytes": int(statistics.median(start["rss_bytes"] for start in starts)),
            "encoders": sorted({start["encoder"] for start in starts})}


def startup_table(result: dict[str, Any]) -> str:
    """First and second start side by side, one row per index (medians of the rounds)."""
    rows = []
    for index in result["indexes"]:
        first, second = index["median"]["first"], index["median"]["second"]
        rows.append([index["index"], index["documents"], index["chunks"],
                     first["process_start_to_ready_s"], second["process_start_to_ready_s"],
                     first["reported_ready_s"], second["reported_ready_s"], first["cpu_s"], second["cpu_s"],
                     round(first["rss_bytes"] / 2**20), round(second["rss_bytes"] / 2**20),
                     "/".join(first["encoders"]), "/".join(second["encoders"])])
    headers = ["index", "documents", "chunks", "first start → /ready, s", "second start → /ready, s",
               "printed ready, first, s", "printed ready, second, s", "CPU to ready, first, s",
               "CPU to ready, second, s", "RSS first, MiB", "RSS second, MiB",
               "encoder, first", "encoder, second"]
    return (format_table(headers, rows)
            + f"\n\nMedians of {result['rounds']} rounds; each round starts with an empty ONNX cache "
            "(first start: export and fill it), then starts again on it (second start). Seconds from "
            "launching `grounded serve` to the first `GET /ready` 200; the server's own printed figure "
            "starts after the interpreter and the CLI are up. CPU: user + system seconds the server "
            "process used until ready, which the neighbours' load changes far less than the wall clock.")
