"""Compare PDF text extractors (pypdfium2, pypdf, pdfminer.six) on real PDFs: speed and text quality.

Run: ``python -m bench.perf.pdf_extractors [DIR] [--words FILE] [--repeat N]`` (DIR defaults to
var/corpora/pdf, which ``make pdf-corpus`` fills). An extractor that is not installed is reported
and skipped (``pip install pypdf pdfminer.six`` to measure them; grounded itself needs only
pypdfium2). Every extractor's page texts go through the same cleaning as ingest
(``ingest.pdf.clean_page_text``), then are measured:

- ``ms/page``: the fastest of ``--repeat`` runs over the whole file, per page.
- ``dictionary``: the share of words (three letters or more) found in a word list (``--words``,
  default /usr/share/dict/words; Debian's ``wamerican``): broken words, lost spaces and garbage
  lower it.
- ``glued``: words of 20 letters or more (words run together when spaces are lost).
- ``hyphen-split``: a line that ends in "xx-" whose word, joined with the next line's first word,
  is in the word list (a hyphenation left in the text, which splits the word for search).
- ``ligatures``: ﬁ, ﬂ and the other presentation forms U+FB00-FB06 (the word "ﬁle" is not "file").
- ``garbled``: U+FFFD, private-use characters and pdfminer's "(cid:N)" for glyphs it cannot map.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.pdf import clean_page_text

Extractor = Callable[[bytes], list[str]]
_WORD = re.compile(r"[^\W\d_]{3,}")
_LIGATURE = re.compile("[\ufb00-\ufb06]")
_GARBLED = re.compile("[\ufffd\ue000-\uf8ff]|\\(cid:\\d+\\)")
_HYPHEN_SPLIT = re.compile(r"([^\W\d_]+)-\n([^\W\d_]+)")
_GLUED_LETTERS = 20
DEFAULT_WORDS = Path("/usr/share/dict/words")
DEFAULT_DIR = Path("var/corpora/pdf")


def _pdfium(data: bytes) -> list[str]:
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    document = pdfium.PdfDocument(data)
    try:
        texts = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def _pypdf(data: bytes) -> list[str]:
    import pypdf  # type: ignore[import-not-found, unused-ignore]

    reader = pypdf.PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in reader.pages]


def _pdfminer(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_pages  # type: ignore[import-not-found, unused-ignore]
    from pdfminer.layout import LAParams, LTTextContainer  # type: ignore[import-not-found, unused-ignore]

    return ["".join(element.get_text() for element in page if isinstance(element, LTTextContainer))
            for page in extract_pages(io.BytesIO(data), laparams=LAParams())]


EXTRACTORS: dict[str, tuple[str, Extractor]] = {
    "pypdfium2": ("pypdfium2", _pdfium),
    "pypdf": ("pypdf", _pypdf),
    "pdfminer.six": ("pdfminer", _pdfminer),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Quality:
    """What one extractor made of one file (or of all files, summed)."""

    pages: int
    seconds: float
    words: int
    known_words: int
    glued: int
    hyphen_splits: int
    ligatures: int
    garbled: int

    def __add__(self, other: Quality) -> Quality:
        return Quality(pages=self.pages + other.pages, seconds=self.seconds + other.seconds,
                       words=self.words + other.words, known_words=self.known_words + other.known_words,
                       glued=self.glued + other.glued, hyphen_splits=self.hyphen_splits + other.hyphen_splits,
                       ligatures=self.ligatures + other.ligatures, garbled=self.garbled + other.garbled)

    def row(self, name: str) -> str:
        known = self.known_words / self.words if self.words else 0.0
        per_page = 1000 * self.seconds / self.pages if self.pages else 0.0
        return (f"{name:14} {per_page:8.1f} {self.words:8d} {known:10.3f} {self.glued:6d} "
                f"{self.hyphen_splits:12d} {self.ligatures:9d} {self.garbled:7d}")


HEADER = f"{'extractor':14} {'ms/page':>8} {'words':>8} {'dictionary':>10} {'glued':>6} {'hyphen-split':>12} " \
         f"{'ligatures':>9} {'garbled':>7}"


def measure(pages: Sequence[str], seconds: float, dictionary: frozenset[str]) -> Quality:
    """The quality counts of one extraction (its page texts cleaned as ingest cleans them)."""
    text = "".join(clean_page_text(page) for page in pages)
    words = _WORD.findall(text)
    splits = sum(1 for first, second in _HYPHEN_SPLIT.findall(text) if (first + second).lower() in dictionary)
    return Quality(pages=len(pages), seconds=seconds, words=len(words),
                   known_words=sum(1 for word in words if word.lower() in dictionary),
                   glued=sum(1 for word in words if len(word) >= _GLUED_LETTERS), hyphen_splits=splits,
                   ligatures=len(_LIGATURE.findall(text)), garbled=len(_GARBLED.findall(text)))


def _timed(extract: Extractor, data: bytes, repeat: int) -> tuple[list[str], float]:
    best = float("inf")
    pages: list[str] = []
    for _ in range(repeat):
        started = time.perf_counter()
        pages = extract(data)
        best = min(best, time.perf_counter() - started)
    return pages, best


def _available() -> dict[str, Extractor]:
    found: dict[str, Extractor] = {}
    for name, (module, extract) in EXTRACTORS.items():
        try:
            __import__(module)
        except ImportError:
            print(f"{name}: not installed (pip install {name}); skipped", file=sys.stderr)
            continue
        found[name] = extract
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf.pdf_extractors", description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_DIR, help="folder of *.pdf files")
    parser.add_argument("--words", type=Path, default=DEFAULT_WORDS, help="word list, one word a line")
    parser.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest is kept")
    args = parser.parse_args(argv)
    files = sorted(args.folder.glob("*.pdf"))
    if not files:
        print(f"no PDF files in {args.folder}: run `make pdf-corpus` first", file=sys.stderr)
        return 2
    if not args.words.is_file():
        print(f"word list {args.words} not found: install Debian's wamerican or pass --words", file=sys.stderr)
        return 2
    dictionary = frozenset(line.strip().lower() for line in args.words.read_text(encoding="utf-8").splitlines())
    extractors = _available()
    totals: dict[str, Quality] = {}
    for path in files:
        data = path.read_bytes()
        print(f"\n{path.name} ({len(data)} bytes)\n{HEADER}")
        for name, extract in extractors.items():
            pages, seconds = _timed(extract, data, args.repeat)
            quality = measure(pages, seconds, dictionary)
            totals[name] = totals[name] + quality if name in totals else quality
            print(quality.row(name))
    print(f"\nall {len(files)} files\n{HEADER}")
    for name, quality in totals.items():
        print(quality.row(name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
