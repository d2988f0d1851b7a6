"""The one vocabulary: ``text`` is what BM25, answer scoring and furniture cohesion use."""

from __future__ import annotations

from bm25s.stopwords import STOPWORDS_EN_PLUS as BM25S_STOPWORDS

from index.analysis import content_terms
from index.sparse import BM25_PARAMS
from ingest.furniture.cohesion import line_terms
from text.lexicon import QUESTION_WORDS, STOPWORDS, STOPWORDS_EN_PLUS
from text.words import split_words, stem


def test_stopword_copy_matches_installed_bm25s() -> None:
    # The manifest says "bm25s en_plus + question words": an upgrade that changes bm25s's list
    # must be noticed here, not in a silently different index.
    assert frozenset(BM25S_STOPWORDS) == STOPWORDS_EN_PLUS
    assert STOPWORDS == STOPWORDS_EN_PLUS | QUESTION_WORDS
    assert BM25_PARAMS["stopwords"] == "bm25s en_plus + question words"


def test_search_and_cohesion_share_stop_words_and_stems() -> None:
    text = "The negotiations were negotiated by the negotiating parties"
    assert set(line_terms(text)) <= set(content_terms(text))
    assert set(stem(["negotiations", "negotiating", "negotiated"])) == {"negoti"}
    assert not set(line_terms(text)) & STOPWORDS


def test_cohesion_ignores_short_common_words() -> None:
    assert line_terms("They used the name to sell more products") == ("product",)


def test_split_words_keeps_case_and_drops_single_characters() -> None:
    assert split_words("A US-led deal, 2 parties") == ["US", "led", "deal", "parties"]
