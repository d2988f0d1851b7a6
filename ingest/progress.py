"""Progress of a long ingest: a bar on a terminal, a plain line every 30 s anywhere else.

The line is a pure function of a ``Snapshot``; the reporters take their clock as a collaborator,
so the interval is tested without sleeping. Everything goes to the stream given (stderr from the
CLI), never stdout, so ``grounded ingest --json`` stays clean. The stages around embedding
(reading, chunking, the near-duplicate pass, publishing) report through ``StageLines``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

Clock = Callable[[], float]
# A plain line at least this often when the stream is not a terminal (CI, logs, nohup).
LINE_INTERVAL_SECONDS = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """How far an ingest is: documents and texts (chunks + sentences) done of the total."""

    documents_done: int
    documents_total: int
    texts_done: int
    texts_total: int
    elapsed_seconds: float


class Progress(Protocol):
    """Where an ingest reports what it has finished."""

    def advance(self, *, documents: int, texts: int) -> None:
        """Count ``documents`` and ``texts`` more as done."""
        ...

    def close(self) -> None:
        """The ingest has finished (or failed): flush and release the stream."""
        ...


def format_duration(seconds: float) -> str:
    """``1h02m03s``, ``2m03s`` or ``3s`` (whole seconds)."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def format_line(snapshot: Snapshot) -> str:
    """One progress line: counts of the totals, rates, elapsed and estimated time left."""
    elapsed = snapshot.elapsed_seconds
    text_rate = snapshot.texts_done / elapsed if elapsed > 0 else 0.0
    document_rate = snapshot.documents_done / elapsed if elapsed > 0 else 0.0
    left = "unknown"
    if text_rate > 0:
        left = format_duration((snapshot.texts_total - snapshot.texts_done) / text_rate)
    percent = 100.0 * snapshot.texts_done / snapshot.texts_total if snapshot.texts_total else 100.0
    return (f"ingest: {snapshot.documents_done}/{snapshot.documents_total} documents, "
            f"{snapshot.texts_done}/{snapshot.texts_total} texts ({percent:.1f} %), "
            f"{document_rate:.2f} documents/s, {text_rate:.1f} texts/s, "
            f"elapsed {format_duration(elapsed)}, left {left}")


class NoProgress:
    """Reports nothing."""

    def advance(self, *, documents: int, texts: int) -> None:
        """Ignore the counts."""

    def close(self) -> None:
        """Nothing to release."""


class LineProgress:
    """A plain line on ``stream`` once ``interval`` seconds have passed since the last one.

    Nothing is written for an ingest shorter than one interval; once a line was written, closing
    writes a final one, so a log always ends with the totals.
    """

    def __init__(self, stream: TextIO, *, documents_total: int, texts_total: int,
                 clock: Clock = time.monotonic, interval: float = LINE_INTERVAL_SECONDS) -> None:
        self._stream = stream
        self._clock = clock
        self._interval = interval
        self._started = clock()
        self._last = self._started
        self._wrote = False
        self._documents = (0, documents_total)
        self._texts = (0, texts_total)

    def snapshot(self) -> Snapshot:
        """Counts so far."""
        return Snapshot(documents_done=self._documents[0], documents_total=self._documents[1],
                        texts_done=self._texts[0], texts_total=self._texts[1],
                        elapsed_seconds=self._clock() - self._started)

    def _write(self) -> None:
        self._stream.write(format_line(self.snapshot()) + "\n")
        self._stream.flush()
        self._wrote = True
        self._last = self._clock()

    def advance(self, *, documents: int, texts: int) -> None:
        """Count more as done; write a line when the interval has passed."""
        self._documents = (self._documents[0] + documents, self._documents[1])
        self._texts = (self._texts[0] + texts, self._texts[1])
        if self._clock() - self._last >= self._interval:
            self._write()

    def close(self) -> None:
        """Write the final line, if any line was written."""
        if self._wrote:
            self._write()


class BarProgress:
    """A tqdm bar of texts on a terminal, with documents done beside it."""

    def __init__(self, stream: TextIO, *, documents_total: int, texts_total: int) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped]

        self._bar: Any = tqdm(total=texts_total, desc="ingest", unit="text", file=stream,
                              dynamic_ncols=True)
        self._documents = 0
        self._documents_total = documents_total

    def advance(self, *, documents: int, texts: int) -> None:
        """Move the bar on."""
        self._documents += documents
        self._bar.set_postfix_str(f"{self._documents}/{self._documents_total} documents",
                                  refresh=False)
        self._bar.update(texts)

    def close(self) -> None:
        """Close the bar."""
        self._bar.close()


def open_progress(stream: TextIO | None, *, documents_total: int, texts_total: int,
                  clock: Clock = time.monotonic) -> Progress:
    """A bar when ``stream`` is a terminal, plain lines otherwise, nothing when it is None."""
    if stream is None:
        return NoProgress()
    if stream.isatty():
        return BarProgress(stream, documents_total=documents_total, texts_total=texts_total)
    return LineProgress(stream, documents_total=documents_total, texts_total=texts_total, clock=clock)


class RowTracker:
    """Turns finished text rows into documents and texts done for a ``Progress``.

    ``document_of_row[row]`` names the document of each text; a document is done when all its
    texts are.
    """

    def __init__(self, document_of_row: Sequence[str], progress: Progress) -> None:
        self._document_of_row = document_of_row
        self._progress = progress
        self._left: dict[str, int] = {}
        self._done = [False] * len(document_of_row)
        for document in document_of_row:
            self._left[document] = self._left.get(document, 0) + 1

    def count_empty(self, documents: Sequence[str]) -> None:
        """Count the ``documents`` that have no text at all as done."""
        empty = sum(1 for document in documents if document not in self._left)
        if empty:
            self._progress.advance(documents=empty, texts=0)

    def finish(self, rows: Sequence[int]) -> None:
        """Count ``rows`` as done (each once, however often it is reported)."""
        documents = texts = 0
        for row in rows:
            if self._done[row]:
                continue
            self._done[row] = True
            texts += 1
            document = self._document_of_row[row]
            self._left[document] -= 1
            if self._left[document] == 0:
                documents += 1
        if documents or texts:
            self._progress.advance(documents=documents, texts=texts)


class StageCount:
    """How much of one stage is done (advanced by the stage, read by ``StageLines``' timer)."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.done = 0

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items of the stage as done."""
        self.done += count


def format_stage_line(name: str, unit: str, count: StageCount, elapsed: float) -> str:
    """One line of a running stage: items done (of the total when known), rate, time left."""
    if count.total is None and count.done == 0:
        return f"ingest: {name}, elapsed {format_duration(elapsed)}"
    rate = count.done / elapsed if elapsed > 0 else 0.0
    done = f"{count.done}" if count.total is None else f"{count.done}/{count.total}"
    line = f"ingest: {name}: {done} {unit}, {rate:.1f} {unit}/s, elapsed {format_duration(elapsed)}"
    if count.total is not None and rate > 0:
        line += f", left {format_duration((count.total - count.done) / rate)}"
    return line


class StageLines:
    """Plain lines for the stages before and after embedding, so that a log never goes quiet.

    Reading a million-chunk corpus, chunking it, its near-duplicate pass and its publication (the
    HNSW build) take minutes each and count nothing the embedding progress sees. While a stage
    runs longer than ``interval`` seconds a timer thread writes where it is (its count of the
    total where it has one, else the time elapsed) every ``interval``, and the stage's end is
    written once anything was; a stage shorter than that writes nothing. ``stream`` None reports
    nothing.
    """

    def __init__(self, stream: TextIO | None, *, interval: float = LINE_INTERVAL_SECONDS,
                 clock: Clock = time.monotonic) -> None:
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._lock = threading.Lock()

    def _write(self, line: str) -> None:
        assert self._stream is not None
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    @contextmanager
    def stage(self, name: str, *, total: int | None = None, unit: str = "documents") -> Iterator[StageCount]:
        """Run one stage (``with stages.stage("chunking", total=n) as count: ... count.advance()``)."""
        count = StageCount(total)
        if self._stream is None:
            yield count
            return
        started = self._clock()
        stop = threading.Event()
        wrote = threading.Event()

        def tick() -> None:
            while not stop.wait(self._interval):
                self._write(format_stage_line(name, unit, count, self._clock() - started))
                wrote.set()

        timer = threading.Thread(target=tick, name=f"ingest-progress-{name}", daemon=True)
        timer.start()
        try:
            yield count
        finally:
            stop.set()
            timer.join()
            if wrote.is_set():
                self._write(format_stage_line(f"{name} done", unit, count, self._clock() - started))
