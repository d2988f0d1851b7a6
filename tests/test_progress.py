"""Ingest progress: the line formatter, the 30 s interval (a fake clock) and row bookkeeping."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from ingest.progress import (
    BarProgress,
    LineProgress,
    NoProgress,
    RowTracker,
    Snapshot,
    StageCount,
    StageLines,
    format_duration,
    format_line,
    format_stage_line,
    open_progress,
)


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A ``Progress`` that records every advance."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def advance(self, *, documents: int, texts: int) -> None:
        self.calls.append((documents, texts))

    def close(self) -> None:
        pass


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_durations_read_as_hours_minutes_seconds() -> None:
    assert format_duration(3.4) == "3s"
    assert format_duration(123) == "2m03s"
    assert format_duration(3723) == "1h02m03s"


def test_a_line_says_documents_texts_rates_and_time_left() -> None:
    line = format_line(Snapshot(documents_done=120, documents_total=2230, texts_done=6000,
                                texts_total=60000, elapsed_seconds=200.0))
    assert line == ("ingest: 120/2230 documents, 6000/60000 texts (10.0 %), 0.60 documents/s, "
                    "30.0 texts/s, elapsed 3m20s, left 30m00s")
    assert "left unknown" in format_line(Snapshot(documents_done=0, documents_total=1, texts_done=0,
                                                  texts_total=5, elapsed_seconds=0.0))


def test_lines_come_every_30_seconds_and_a_final_one_on_close() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = LineProgress(stream, documents_total=4, texts_total=100, clock=clock)
    clock.now += 29.0
    progress.advance(documents=1, texts=10)
    assert stream.getvalue() == ""
    clock.now += 1.0
    progress.advance(documents=0, texts=20)
    assert stream.getvalue().splitlines() == [
        "ingest: 1/4 documents, 30/100 texts (30.0 %), 0.03 documents/s, 1.0 texts/s, "
        "elapsed 30s, left 1m10s"]
    clock.now += 10.0
    progress.advance(documents=1, texts=10)
    assert len(stream.getvalue().splitlines()) == 1
    clock.now += 20.0
    progress.advance(documents=2, texts=60)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("ingest: 4/4 documents, 100/100 texts (100.0 %)")


def test_a_short_ingest_writes_nothing() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = LineProgress(stream, documents_total=1, texts_total=3, clock=clock)
    clock.now += 5.0
    progress.advance(documents=1, texts=3)
    progress.close()
    assert stream.getvalue() == ""


def test_a_terminal_gets_a_bar_anything_else_lines_and_none_nothing() -> None:
    terminal = TerminalStream()
    bar = open_progress(terminal, documents_total=2, texts_total=10)
    assert isinstance(bar, BarProgress)
    bar.advance(documents=1, texts=5)
    bar.close()
    assert "ingest" in terminal.getvalue() and "1/2 documents" in terminal.getvalue()
    assert isinstance(open_progress(io.StringIO(), documents_total=1, texts_total=1), LineProgress)
    assert isinstance(open_progress(None, documents_total=1, texts_total=1), NoProgress)


def test_rows_count_once_and_a_document_is_done_with_its_last_text() -> None:
    recorder = Recorder()
    tracker = RowTracker(["a", "a", "b", "a", "b"], recorder)
    tracker.count_empty(["a", "b", "empty"])
    tracker.finish([0, 2])
    tracker.finish([0, 1, 4])
    tracker.finish([3])
    assert recorder.calls == [(1, 0), (0, 2), (1, 2), (1, 1)]


def test_a_stage_line_counts_of_the_total_with_rate_and_time_left() -> None:
    count = StageCount(200)
    count.advance(50)
    assert format_stage_line("chunking", "documents", count, 10.0) == (
        "ingest: chunking: 50/200 documents, 5.0 documents/s, elapsed 10s, left 30s")
    assert format_stage_line("publishing", "documents", StageCount(None), 95.0) == (
        "ingest: publishing, elapsed 1m35s")


def _wait_for(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10.0
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_long_stage_writes_from_its_timer_while_running_and_once_at_its_end() -> None:
    stream = io.StringIO()
    stages = StageLines(stream, interval=0.01)
    with stages.stage("chunking", total=4) as count:
        count.advance(3)
        _wait_for(lambda: "ingest: chunking: 3/4 documents" in stream.getvalue())
        # The stage made no call at all: the lines came from the timer (a step that counts nothing,
        # such as the HNSW build, must not leave the log quiet).
    lines = stream.getvalue().splitlines()
    assert any(line.startswith("ingest: chunking: 3/4 documents") for line in lines)
    assert lines[-1].startswith("ingest: chunking done: 3/4 documents")


def test_a_short_stage_and_a_stage_without_stream_write_nothing() -> None:
    stream = io.StringIO()
    with StageLines(stream, interval=60.0).stage("reading", unit="files") as count:
        count.advance()
    assert stream.getvalue() == ""
    with StageLines(None, interval=0.001).stage("reading") as count:
        count.advance(2)
    assert count.done == 2
