"""``grounded bench startup``'s pure parts: reading the ready line and the side-by-side table."""

from __future__ import annotations

import os
from typing import Any

from bench.common.process import cpu_seconds
from bench.perf.startup import ReadyLine, parse_ready_line, startup_table

READY = ("grounded: ready in 1.52 s: index 60f701d3514e (5 documents, 41 chunks, "
         "sentence-transformers/all-MiniLM-L6-v2, questions on onnxruntime{origin}) on http://127.0.0.1:8000")


def test_cpu_seconds_of_a_process_are_read_from_proc() -> None:
    used = cpu_seconds(os.getpid())
    assert used is not None and used > 0
    assert cpu_seconds(2**22 + 1) is None, "no such process"


def test_the_ready_line_says_the_size_and_where_the_encoder_came_from() -> None:
    assert parse_ready_line(READY.format(origin=" (export read from the cache)")) == ReadyLine(
        documents=5, chunks=41, encoder="cache")
    assert parse_ready_line(READY.format(origin=" (exported now, cached for the next start)")).encoder == "export"
    assert parse_ready_line(READY.format(origin="").replace("onnxruntime", "torch")).encoder == "torch"
    assert parse_ready_line(None) == ReadyLine(documents=None, chunks=None, encoder="torch")


def _start(seconds: float, encoder: str) -> dict[str, Any]:
    return {"process_start_to_ready_s": seconds, "reported_ready_s": seconds - 0.5, "cpu_s": seconds - 1,
            "rss_bytes": 300 * 2**20,
            "encoders": [encoder]}


def test_the_table_puts_first_and_second_start_side_by_side() -> None:
    result = {"rounds": 3, "indexes": [{"index": "var/idx-seeds", "documents": 5, "chunks": 41,
                                        "median": {"first": _start(9.25, "export"), "second": _start(2.5, "cache")}}]}
    table = startup_table(result)
    header, _, row = table.splitlines()[:3]
    assert "first start → /ready, s" in header and "second start → /ready, s" in header
    assert row == ("| var/idx-seeds | 5 | 41 | 9.250 | 2.500 | 8.750 | 2.000 | 8.250 | 1.500 | 300 | 300 "
                   "| export | cache |")
    assert "Medians of 3 rounds" in table
