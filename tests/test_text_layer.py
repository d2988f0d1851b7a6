"""One text-analysis layer: no product module outside ``text/`` defines a word tokenizer or a word list.

Parsed with ``ast`` like tests/test_layering.py: every string constant of the product (and every
literal tuple, list or set of strings) is checked for the shapes that used to be copied from file to
file: a word-run regular expression, month names, number words, name-link words, sentence-end marks.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from bm25s.tokenization import tokenize
from hypothesis import given
from hypothesis import strategies as st

from tests.support.paths import PRODUCT, REPO
from text.lexicon import CARDINALS, MONTH_NUMBERS, NAME_LINKS, NAME_PARTICLES
from text.words import WORD, letter_runs, long_words, split_words

# A whole pattern that is one run of word characters: "\w+", "(?u)\b\w\w+\b", "[^\W\d_]{5,}", "[\w'’-]+".
_WORD_RUN = re.compile(r"(?:(?:\\[wW]|\[[^\]]+\]|[A-Za-z])(?:[*+?]|\{\d*,?\d*\})?)+")
_MONTH_WORD = re.compile(r"\b(?:" + "|".join(MONTH_NUMBERS) + r")\b", re.IGNORECASE)
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(word for word, value in CARDINALS.items() if value >= 2) + r")\b",
                          re.IGNORECASE)
# "This ends a sentence": terminal marks, perhaps closing quotes, then the end ("[.!?…][\"'”’)\]]*$").
_SENTENCE_END = re.compile(r"\[[^\]]*\.!\?[^\]]*\][+*]?(?:\[[^\]]*\][*+]?)?(?:\$|\(\?:\\s\|\$\))")


def _product_files() -> Iterator[Path]:
    for package in PRODUCT:
        if package != "text":
            yield from sorted((REPO / package).rglob("*.py"))


def _texts(tree: ast.AST) -> Iterator[tuple[int, str, bool]]:
    """``(line, text, is_collection)``: every string constant, and every literal collection of strings
    joined by spaces."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value, False
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = [item.value for item in node.elts if isinstance(item, ast.Constant) and isinstance(item.value, str)]
            if len(items) >= 2:
                yield node.lineno, " ".join(items), True


def _is_word_regex(text: str) -> bool:
    bare = text.replace("(?u)", "").replace("\\b", "")
    return bool(bare) and ("\\w" in bare or "\\W" in bare) and _WORD_RUN.fullmatch(bare) is not None


def _problems(text: str, is_collection: bool) -> list[str]:
    problems = []
    if _is_word_regex(text):
        problems.append("a word tokenizer (use text.words)")
    if len({MONTH_NUMBERS[found.lower()] for found in _MONTH_WORD.findall(text)}) >= 3:
        problems.append("month names (use text.lexicon)")
    if len({found.lower() for found in _NUMBER_WORD.findall(text)}) >= 4:
        problems.append("number words (use text.lexicon)")
    words = text.split()
    if len(set(words) & NAME_PARTICLES) >= 3 or (is_collection and len(words) >= 2 and set(words) <= NAME_LINKS):
        problems.append("name-link words (use text.lexicon.NAME_LINKS)")
    if _SENTENCE_END.fullmatch(text) or (is_collection and {".", "!"} <= set(words)):
        problems.append("sentence-end marks (use text.sentences)")
    return problems


def test_the_checks_see_each_shape_that_was_copied() -> None:
    for pattern in (r"\w+", r"(?u)\b\w\w+\b", r"[^\W\d_]{5,}", r"[\w'’-]+", r"[^\W\d_]+"):
        assert _is_word_regex(pattern), pattern
    assert not _is_word_regex(r"[^\r\n]+") and not _is_word_regex(r"\s+") and not _is_word_regex(r"[\w.]+\.(?:jpe?g)")
    assert _problems("Jan|Feb|Mar|Apr", False) and _problems("one two three four five", False)
    assert _problems("of the", True) and _problems(r"[.!?…][\"']*$", False)
    assert _problems(r"[.!?](?:\s|$)", False) and not _problems(r"[.!?]\s+[A-Z]", False) and _problems(". ! ) ”", True)
    assert not _problems("The May meeting, with one or two of the members", False)


def test_no_product_module_outside_text_defines_a_tokenizer_or_word_list() -> None:
    found = []
    for path in _product_files():
        for line, text, is_collection in _texts(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            found += [f"{path.relative_to(REPO)}:{line}: {problem}" for problem in _problems(text, is_collection)]
    assert found == []


@given(st.text(alphabet=st.sampled_from(list("aZé9_ -'’.\u0301ß")), max_size=60))
def test_search_words_are_bm25s_words(text: str) -> None:
    bm25s_pattern = inspect.signature(tokenize).parameters["token_pattern"].default
    assert split_words(text) == re.findall(bm25s_pattern, text)


@given(st.text(alphabet=st.sampled_from(list("aZé9_ -'’.")), max_size=60))
def test_long_words_are_letter_runs_of_that_length(text: str) -> None:
    assert long_words(text, 5) == re.findall(r"[^\W\d_]{5,}", text)
    assert WORD.findall(text) == re.findall(r"\w+", text)


@pytest.mark.parametrize("text", ["One thing. Two things!", 'He said "no."', "A label", "Wait…"])
def test_sentence_end_checks_keep_their_measured_differences(text: str) -> None:
    from text.sentences import count_stops, ends_declaratively, ends_sentence

    expected = {"One thing. Two things!": (True, 2, True), 'He said "no."': (True, 0, True),
                "A label": (False, 0, False), "Wait…": (True, 0, False)}
    assert (ends_sentence(text), count_stops(text), ends_declaratively(text)) == expected[text]


@given(st.text(alphabet="abcXYZé²_9٣ -'’.\tßÅ中1"))
def test_letter_runs_are_the_words_without_digits_or_underscores(text: str) -> None:
    """``letter_runs`` (built on ``WORD``) finds exactly the runs of letters (no digit, no underscore)."""
    assert letter_runs(text) == re.findall(r"[^\W\d_]+", text)
