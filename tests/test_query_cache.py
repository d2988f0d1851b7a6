"""The result cache: two questions share an entry only when they get the same result."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.build import ingest
from index.load import load_index
from ingest.embedding import HashingEmbedder
from service.engine import EngineConfig, QueryEngine
from service.query_cache import ResultCache, cache_key, question_text
from service.records import Query, QueryResult, Timings
from tests.support.fakes import FakeDocument, write_fake_corpus

DOCUMENTS = (
    FakeDocument(
        doc_id="trade-offer", title="Trade talks", source="fixtures/trade-offer.txt",
        text=("The US made an offer on steel tariffs at the summit in Geneva. "
              "Officials from the US said the offer would stand until the spring. "
              "Canada asked for more time to study the terms of the deal."),
    ),
    FakeDocument(
        doc_id="market-offer", title="Market day", source="fixtures/market-offer.txt",
        text=("Growers at the Saturday market offer apples, pears and fresh cider to visitors. "
              "Each stall can offer a tasting before the buyers choose their fruit. "
              "The offer of free samples drew a large crowd to the square this week."),
    ),
    FakeDocument(
        doc_id="health-agency", title="Health agency", source="fixtures/health-agency.txt",
        text=("The WHO said the outbreak in the northern provinces was under control by March. "
              "Experts at the WHO say vaccination should continue in every district this year. "
              "Local doctors say the clinics need more nurses before the winter."),
    ),
    FakeDocument(
        doc_id="harbour", title="Harbour news", source="fixtures/harbour.txt",
        text=("The harbour froze in January and the ferries stopped for a whole week. "
              "Fishermen waited on the quay for the ice to break before sailing again."),
    ),
)
SHOUTED = "What did the US offer?"
MUMBLED = "what did the us offer?"
CASE_PAIRS = ((SHOUTED, MUMBLED), ("What did the WHO say?", "what did the who say?"))
"""An acronym and the word it spells: the analyzer keeps the acronym even where the word is a stop
or question word ("who"), so such a pair can search with different terms."""


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cache")
    corpus = write_fake_corpus(root / "corpus", DOCUMENTS)
    ingest([corpus], root / "index", HashingEmbedder())
    return root / "index"


def make_engine(index_dir: Path, cache_size: int = 256) -> QueryEngine:
    return QueryEngine(load_index(index_dir), HashingEmbedder(), EngineConfig(cache_size=cache_size))


def outcome(result: QueryResult) -> tuple[object, ...]:
    """Everything of a result that the cache must not change (not timings, not the cached flag)."""
    return (result.answer, result.abstention_reason, result.passages, result.index_version, result.answer_score)


def test_an_acronym_and_the_word_it_spells_have_different_keys() -> None:
    for acronym, word in CASE_PAIRS:
        assert cache_key(Query(question=acronym)) != cache_key(Query(question=word))
    assert "who" in cache_key(Query(question="What did the WHO say?")).terms
    assert "who" not in cache_key(Query(question="what did the who say?")).terms


@pytest.mark.parametrize("pair", CASE_PAIRS, ids=["US", "WHO"])
@pytest.mark.parametrize("acronym_first", [True, False], ids=["acronym-first", "word-first"])
def test_each_case_variant_gets_its_own_result_whichever_comes_first(
        index_dir: Path, pair: tuple[str, str], acronym_first: bool) -> None:
    first, second = pair if acronym_first else pair[::-1]
    reference = make_engine(index_dir, cache_size=0)
    expected = {question: outcome(reference.query(Query(question=question))) for question in pair}
    if pair[0].startswith("What did the WHO"):
        # This pair must really differ here, or the test proves nothing about the cache.
        assert expected[first] != expected[second]
    engine = make_engine(index_dir)
    assert outcome(engine.query(Query(question=first))) == expected[first]
    result = engine.query(Query(question=second))
    assert not result.cached
    assert outcome(result) == expected[second]


def test_whitespace_variants_share_an_entry_because_the_encoder_sees_one_text(index_dir: Path) -> None:
    spaced = "  What did\tthe US \n offer?  "
    assert question_text(spaced) == SHOUTED
    assert cache_key(Query(question=spaced)) == cache_key(Query(question=SHOUTED))
    engine = make_engine(index_dir)
    first = engine.query(Query(question=SHOUTED))
    again = engine.query(Query(question=spaced))
    assert again.cached
    assert again.question == spaced
    assert outcome(again) == outcome(first)
    assert outcome(make_engine(index_dir, cache_size=0).query(Query(question=spaced))) == outcome(first)


def test_options_are_part_of_the_key() -> None:
    base = cache_key(Query(question=SHOUTED))
    assert cache_key(Query(question=SHOUTED, top_k=3)) != base
    assert cache_key(Query(question=SHOUTED, mode="dense")) != base
    assert cache_key(Query(question=SHOUTED, doc_ids=("b", "a", "a"))) == cache_key(
        Query(question=SHOUTED, doc_ids=("a", "b")))
    assert cache_key(Query(question=SHOUTED, doc_ids=())) != base


def test_the_cache_evicts_the_least_recently_used_entry() -> None:
    cache = ResultCache(2)
    keys = [cache_key(Query(question=f"question number {word}")) for word in ("one", "two", "three")]
    result = QueryResult(question="q", answer=None, abstention_reason="none", passages=(),
                         index_version="v", timings=Timings())
    cache.put(keys[0], result)
    cache.put(keys[1], result)
    assert cache.get(keys[0]) is result
    cache.put(keys[2], result)
    assert cache.get(keys[1]) is None
    assert cache.get(keys[0]) is result
    assert len(cache) == 2


_WORDS = ("What", "did", "the", "WHO", "say", "about", "the", "US", "offer?")
_SPACES = st.sampled_from([" ", "  ", "\t", "\n", " \u00a0"])


@st.composite
def variants(draw: st.DrawFn) -> str:
    """The question with each word's letters in random case and random whitespace between words."""
    words = [
        "".join(letter.upper() if draw(st.booleans()) else letter.lower() for letter in word)
        for word in _WORDS
    ]
    gaps = [draw(_SPACES) for _ in words]
    return draw(st.sampled_from(["", " "])) + "".join(word + gap for word, gap in zip(words, gaps, strict=True))


@pytest.fixture(scope="module")
def shared_engine(index_dir: Path) -> QueryEngine:
    return make_engine(index_dir)


@settings(max_examples=60, deadline=None)
@given(questions=st.lists(variants(), min_size=1, max_size=4))
def test_a_cached_result_equals_the_uncached_one_for_any_case_or_spacing(
        shared_engine: QueryEngine, questions: list[str]) -> None:
    for question in questions:
        cached = shared_engine.query(Query(question=question))
        fresh = shared_engine.query(Query(question=question), use_cache=False)
        assert outcome(cached) == outcome(fresh), question
