"""Malformed corpora: every bad file is refused with its stable code, every good file is ingested.

``grounded ingest --json`` runs in a child process that reports its own peak memory, so the
tests can hold memory to a bound (a 50 MB one-line file must not be read into memory to be refused).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.common.corpus import NewsWriter
from index.load import load_index
from tests.support.paths import REPO

_CHILD = """
import resource, sys
limit = int(sys.argv[1])
if limit:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from grounded.cli import main
from tests.support.paths import REPO
code = main(sys.argv[2:])
# ru_maxrss survives exec: it would report the parent's (pytest's) size when that is larger.
# VmHWM is this process image's own peak.
try:
    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("peak-rss-kib", peak, file=sys.stderr)
sys.exit(code)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildIngest:
    """A finished ingest child: exit status, parsed JSON report, stderr and peak memory."""

    returncode: int
    report: dict[str, object]
    stderr: str
    peak_rss_bytes: int

    def rejections(self) -> dict[str, str]:
        """``path -> code`` of every refused file."""
        rejected = self.report.get("rejected", [])
        assert isinstance(rejected, list)
        return {item["path"]: item["code"] for item in rejected}

    def doc_ids(self) -> set[str]:
        """The ingested documents."""
        documents = self.report.get("documents", [])
        assert isinstance(documents, list)
        return {item["doc_id"] for item in documents}


def ingest_child(corpus: Path, index_dir: Path, *, address_limit: int = 0, timeout: float = 120) -> ChildIngest:
    """``grounded ingest CORPUS --index DIR --model hashing:384 --json`` in a child process."""
    command = [sys.executable, "-c", _CHILD, str(address_limit), "ingest", str(corpus), "--index", str(index_dir),
               "--model", "hashing:384", "--json"]
    environment = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=timeout,
                            check=False)
    peak = next((int(line.split()[1]) * 1024 for line in result.stderr.splitlines()
                 if line.startswith("peak-rss-kib")), 0)
    report = json.loads(result.stdout) if result.returncode == 0 else {}
    return ChildIngest(returncode=result.returncode, report=report, stderr=result.stderr, peak_rss_bytes=peak)


def write_valid_files(corpus: Path) -> set[str]:
    """Good files of several shapes; returns their doc_ids."""
    writer = NewsWriter(8)
    corpus.mkdir(parents=True, exist_ok=True)
    for number in range(3):
        (corpus / f"article{number}.txt").write_text(writer.document(), encoding="utf-8")
    (corpus / "accents.txt").write_text("Café owners in São Paulo raised prices. Zoë Müller paid €4.\n",
                                        encoding="utf-8")
    (corpus / "windows.txt").write_bytes(b"Lines end in CR LF here.\r\nThe mayor spoke on Monday.\r\n")
    (corpus / "bom.md").write_bytes(b"\xef\xbb\xbf# A UTF-8 file with a byte-order mark\n\nIt is plain UTF-8.\n")
    (corpus / "nested").mkdir()
    (corpus / "nested" / "deep.txt").write_text(writer.document(), encoding="utf-8")
    # Legacy encodings are decoded, not refused (tests/test_encoding.py checks the texts).
    french = "Le café de la gare a fermé. Les élèves sont partis à Noël.\n"
    (corpus / "latin1.txt").write_bytes(french.encode("latin-1"))
    (corpus / "utf16.txt").write_bytes("A UTF-16 file with a byte-order mark.\n".encode("utf-16"))
    (corpus / "utf16be.txt").write_bytes(b"\xfe\xff" + "Big-endian UTF-16.\n".encode("utf-16-be"))
    (corpus / "cut_utf8.txt").write_bytes("Zoë Müller paid €4 for a croissant.\nThe price rose to €".encode()[:-1])
    return {"article0", "article1", "article2", "accents", "windows", "bom", "nested/deep",
            "latin1", "utf16", "utf16be", "cut_utf8"}


def write_bad_files(corpus: Path, outside: Path) -> dict[str, str]:
    """Bad files of every kind; returns ``path -> expected rejection code``."""
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "secret.txt").write_text("Outside the corpus: never ingest me.\n", encoding="utf-8")
    files = {
        "empty.txt": (b"", "empty"),
        "blank.txt": (b"  \n\t\n   \n", "empty"),
        "image.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        "controls.txt": (bytes(range(1, 9)) * 200, "binary"),
        "nul.txt": (b"Text with a NUL\x00 byte in the middle of a sentence.\n", "binary"),
        "bad_utf16.txt": (b"\xff\xfe" + "UTF-16, cut.\n".encode("utf-16-le") + b"\x00\xd8", "invalid_encoding"),
        "scan.pdf": (b"%PDF-1.4\n", "damaged"),
        "notes.rtf": (b"{\\rtf1 Rich text is not ingested.}", "unsupported_type"),
        "copy_of_article.txt": (None, "duplicate_document"),
        "bom.txt": (b"Same doc_id as bom.md.\n", "duplicate_doc_id"),
    }
    for name, (data, _) in files.items():
        if data is not None:
            (corpus / name).write_bytes(data)
    (corpus / "copy_of_article.txt").write_bytes((corpus / "article1.txt").read_bytes())
    (corpus / "leak.txt").symlink_to(outside / "secret.txt")
    with open(corpus / "one_line.txt", "wb") as handle:
        block = b"word " * 200_000  # 1 MB, no newline anywhere
        for _ in range(50):
            handle.write(block)
    # Every line is a sentence: one over the default per-document limit of 20,000.
    (corpus / "lines.txt").write_text("".join(f"line {number}\n" for number in range(20_001)), encoding="utf-8")
    expected = {name: code for name, (_, code) in files.items()}
    expected |= {"leak.txt": "symlink_outside_root", "one_line.txt": "too_large", "lines.txt": "too_many_sentences"}
    return expected


def test_each_bad_file_is_refused_with_its_code_and_every_good_file_is_ingested(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    valid = write_valid_files(corpus)
    baseline = ingest_child(corpus, tmp_path / "baseline-index")
    assert baseline.returncode == 0, baseline.stderr
    expected = write_bad_files(corpus, tmp_path / "outside")
    assert (corpus / "one_line.txt").stat().st_size == 50_000_000

    result = ingest_child(corpus, tmp_path / "index")
    assert result.returncode == 0, result.stderr
    assert result.rejections() == expected
    assert result.doc_ids() == valid
    assert set(load_index(tmp_path / "index").documents) == valid
    # Refusing the 50 MB file by its size must not read it: memory as for the good files alone.
    assert result.peak_rss_bytes - baseline.peak_rss_bytes < 30 * 2**20, (
        result.peak_rss_bytes, baseline.peak_rss_bytes)
    # Stable codes: the same corpus gives the same report.
    again = ingest_child(corpus, tmp_path / "index")
    assert again.rejections() == expected


def test_reasons_are_one_line_and_say_what_to_do(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_valid_files(corpus)
    write_bad_files(corpus, tmp_path / "outside")
    result = ingest_child(corpus, tmp_path / "index")
    rejected = result.report["rejected"]
    assert isinstance(rejected, list) and rejected
    for item in rejected:
        assert item["reason"] and "\n" not in item["reason"], item


def test_a_corpus_of_only_bad_files_publishes_nothing_and_says_why(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "nul.txt").write_bytes(b"a\x00b")
    result = ingest_child(corpus, tmp_path / "index")
    assert result.returncode == 2
    assert result.stderr.startswith("grounded: error:") and "no chunks" in result.stderr
    assert not (tmp_path / "index" / "CURRENT").exists()


MILLION_LINES_SECONDS = 120
MILLION_LINES_EXTRA_SECONDS = 10
MILLION_LINES_EXTRA_BYTES = 32 * 2**20


def test_a_million_tiny_lines_is_refused_before_embedding_at_little_cost(tmp_path: Path) -> None:
    # Before the sentence limit: 1M one-word lines (7.9 MB) took 107-114 s and 5.1 GiB peak RSS,
    # every line a sentence and every sentence a 384-d vector.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "normal.txt").write_text(NewsWriter(2).document(), encoding="utf-8")
    started = time.monotonic()
    baseline = ingest_child(corpus, tmp_path / "baseline-index")
    baseline_seconds = time.monotonic() - started
    assert baseline.returncode == 0, baseline.stderr
    (corpus / "million.txt").write_text("".join(f"w{number}\n" for number in range(1_000_000)), encoding="utf-8")
    assert (corpus / "million.txt").stat().st_size < 10 * 2**20  # under the default size limit
    started = time.monotonic()
    try:
        # The address-space cap keeps a regression from taking the machine's memory with it.
        result = ingest_child(corpus, tmp_path / "index", address_limit=4 * 2**30, timeout=MILLION_LINES_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"ingest of a million tiny lines took over {MILLION_LINES_SECONDS} s")
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.rejections() == {"million.txt": "too_many_sentences"}
    assert result.doc_ids() == {"normal"}
    # Refused while reading: none of its lines was chunked or embedded.
    assert result.report["sentences"] == baseline.report["sentences"]
    assert result.report["embedded_texts"] == baseline.report["embedded_texts"]
    assert seconds - baseline_seconds < MILLION_LINES_EXTRA_SECONDS, (seconds, baseline_seconds)
    assert result.peak_rss_bytes - baseline.peak_rss_bytes < MILLION_LINES_EXTRA_BYTES, (
        result.peak_rss_bytes, baseline.peak_rss_bytes)
