"""HTML extraction quality on a folder of real pages: cut sentences, permalink glyphs, navigation text.

Run: ``python -m bench.perf.html_extraction DIR [DIR ...]`` (every ``*.html`` below each folder, skipping
Sphinx's ``_sources``/``_static``); prints one JSON object. A sentence is "cut" when it is prose
(three or more words, no ``=``, braces or prompts, so code lines do not count) and ends without
terminal punctuation, or when any sentence ends on a function word ("...creates an").
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.html import HtmlExtraction, extract_html
from text.sentences import split_sentences

_TERMINAL = re.compile(r"[.!?…:;][\"'”’)\]]*$")
_CODE_MARKS = re.compile(r"[={}]|>>>|^\$ |^\s")
_FUNCTION_WORDS = frozenset(
    "a an the to of and or with in for is are that by on as at from into than then be was its their".split()  # noqa: SIM905
)
# Text that only page navigation, search boxes and footers put on a Sphinx or news page.
NAVIGATION_PHRASES = ("Quick search", "Previous topic", "Next topic", "Table of Contents", "Show Source",
                      "Show source", "This Page", "Created using", "Navigation", "Edit on GitHub",
                      "previous |", "Subscribe today")
_SKIPPED_FOLDERS = frozenset({"_sources", "_static", "_images", "_modules"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractionStats:
    """Counts over every page of a corpus; shares are fractions of the sentences counted."""

    pages: int
    empty_pages: int
    paragraphs: int
    sentences: int
    prose_sentences: int
    unterminated_prose_share: float
    function_word_ending_share: float
    lowercase_paragraph_starts: int
    pilcrows_in_text: int
    pilcrows_in_titles: int
    pages_with_navigation_text: int
    titles_with_site_suffix: int


def html_pages(folders: Sequence[Path]) -> list[Path]:
    """Every ``.html`` page below ``folders``, sorted, without Sphinx's source and static copies."""
    pages = [path for folder in folders for path in folder.rglob("*.html")
             if not _SKIPPED_FOLDERS.intersection(path.relative_to(folder).parts)]
    return sorted(pages)


def is_prose(sentence: str) -> bool:
    """True for a sentence of three or more words that does not look like a line of code."""
    return len(sentence.split()) >= 3 and not _CODE_MARKS.search(sentence)


def measure(extractions: Iterable[HtmlExtraction]) -> ExtractionStats:
    """Aggregate the cut-sentence, glyph and navigation counts over ``extractions``."""
    pages = empty = paragraphs = sentences = prose = unterminated = function_endings = 0
    lowercase_starts = text_pilcrows = title_pilcrows = navigation = suffixes = 0
    for extraction in extractions:
        pages += 1
        text, title = extraction.text, extraction.title or ""
        if not text.strip():
            empty += 1
        blocks = [block for block in text.split("\n\n") if block.strip()]
        paragraphs += len(blocks)
        lowercase_starts += sum(1 for block in blocks if block[0].islower() and is_prose(block.split("\n")[0]))
        for start, end in split_sentences(text):
            sentence = text[start:end]
            sentences += 1
            words = sentence.split()
            if words and words[-1].lower() in _FUNCTION_WORDS:
                function_endings += 1
            if is_prose(sentence):
                prose += 1
                unterminated += 0 if _TERMINAL.search(sentence) else 1
        text_pilcrows += text.count("¶")
        title_pilcrows += title.count("¶")
        navigation += any(phrase in text for phrase in NAVIGATION_PHRASES)
        suffixes += any(separator in title for separator in (" — ", " | ", " – "))
    return ExtractionStats(
        pages=pages, empty_pages=empty, paragraphs=paragraphs, sentences=sentences, prose_sentences=prose,
        unterminated_prose_share=round(unterminated / prose, 4) if prose else 0.0,
        function_word_ending_share=round(function_endings / sentences, 4) if sentences else 0.0,
        lowercase_paragraph_starts=lowercase_starts, pilcrows_in_text=text_pilcrows,
        pilcrows_in_titles=title_pilcrows, pages_with_navigation_text=navigation, titles_with_site_suffix=suffixes)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the extraction statistics of the pages under the given folders as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--show", type=int, default=0, help="also print this many cut prose sentences")
    arguments = parser.parse_args(argv)
    pages = html_pages(arguments.folders)
    extractions = [extract_html(page.read_text(encoding="utf-8", errors="replace")) for page in pages]
    print(json.dumps(asdict(measure(extractions)), indent=2))
    shown = 0
    for extraction in extractions:
        for start, end in split_sentences(extraction.text):
            sentence = extraction.text[start:end]
            if shown < arguments.show and is_prose(sentence) and not _TERMINAL.search(sentence):
                print(repr(sentence), file=sys.stderr)
                shown += 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
