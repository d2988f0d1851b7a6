"""The grounding checker: facts, comparison and verdicts (pure), and checks against a hashing index."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from grounding.checker import Checker, claim_spans
from grounding.compare import Candidate, decide, fact_reasons, needs_elsewhere, similarity
from grounding.errors import CitationError
from grounding.facts import count_negations, extract_dates, extract_facts, extract_names, extract_numbers, words
from grounding.records import Citation, Evidence, Thresholds
from index.build import ingest
from index.load import load_index
from index.searcher import Index
from ingest.embedding import Embedder, HashingEmbedder
from tests.support.paths import SEED_CORPUS

SPAN = ("Maduro wants to win some sanctions relief, and he wants something else related to that, "
        "says Eurasia Group Venezuela expert Risa Grais-Targow: recognition.")


def _codes(claim: str, evidence: str) -> list[str]:
    return [reason.code for reason in fact_reasons(extract_facts(claim), extract_facts(evidence), words(evidence))]


def test_numbers_are_normalised_across_spellings() -> None:
    assert extract_numbers("It cost $3.5 million, then 3,500,000 and two more; 45% agreed.") == \
        frozenset({"3500000", "2", "45"})


def test_dates_give_parts_and_are_not_numbers() -> None:
    dates, spans = extract_dates("On March 14, 2021 and on 13 August talks met; they may leave.")
    assert dates == frozenset({"month:3", "day:3-14", "year:2021", "month:8", "day:8-13"})
    assert extract_numbers("On March 14, 2021 the 12 delegates met.", spans) == frozenset({"12"})


def test_scores_and_ranges_are_one_value() -> None:
    assert extract_numbers("She won 7-5 7-6 (8-6).") == frozenset({"7-5", "7-6", "8-6"})
    assert _codes("She won 8-5 7-6 (8-6).", "She won 7-5 7-6 (8-6).") == ["number_mismatch"]


def test_a_bare_may_is_a_month_only_after_a_month_word() -> None:
    assert extract_dates("He died suddenly in May.")[0] == frozenset({"month:5"})
    assert extract_dates("They may go.")[0] == frozenset()


def test_names_are_capitalised_runs_and_acronyms() -> None:
    names = extract_names("The talks in Mexico City between the Bank of England and the US ended.")
    assert names == frozenset({("mexico", "city"), ("bank", "england"), ("us",)})


def test_negation_cues_are_counted() -> None:
    assert count_negations("He did not go and they didn't either; never without cause.") == 4


@pytest.mark.parametrize(("claim", "code"), [
    ("The deal cost 12 million dollars in 2021.", "number_mismatch"),
    ("The deal cost 10 million dollars in 2020.", "date_mismatch"),
    ("The deal with Colombia cost 10 million dollars in 2021.", "entity_missing"),
    ("The deal did not cost 10 million dollars in 2021.", "negation_flip"),
])
def test_each_changed_fact_has_its_reason(claim: str, code: str) -> None:
    evidence = "The deal cost 10 million dollars in 2021."
    assert _codes(claim, evidence) == [code]
    assert _codes(evidence, evidence) == []


def test_names_match_case_insensitively_and_by_their_words() -> None:
    assert _codes("Maduro wants recognition.", SPAN) == []
    assert _codes("Grais-Targow says Maduro wants recognition.", SPAN) == []


def test_similarity_mixes_cosine_and_term_overlap() -> None:
    assert similarity(["a", "b"], ["a", "b", "c"], 1.0) == 1.0
    assert similarity(["a", "b"], ["a"], 0.0) == 0.25
    assert similarity([], ["a"], 0.4) == 0.4


def _candidate(text: str, score: float, doc_id: str = "a") -> Candidate:
    return Candidate(evidence=Evidence(doc_id=doc_id, start_char=0, end_char=len(text), text=text),
                     score=score, facts=extract_facts(text), words=words(text))


def test_decide_walks_cited_range_then_document_then_elsewhere() -> None:
    thresholds = Thresholds()
    claim = extract_facts("Talks resumed.")
    verdict, _, reasons = decide(claim, _candidate("Talks resumed.", 0.95), None, None, thresholds,
                                 has_citations=True)
    assert (verdict, reasons) == ("supported", ())
    verdict, _, reasons = decide(claim, _candidate("Other.", 0.1), _candidate("Talks resumed.", 0.9), None,
                                 thresholds, has_citations=True)
    assert verdict == "partially_supported" and [r.code for r in reasons] == ["citation_range_mismatch"]
    verdict, chosen, reasons = decide(claim, _candidate("Other.", 0.1), None,
                                      _candidate("Talks resumed.", 0.9, "b"), thresholds, has_citations=True)
    assert verdict == "unsupported" and [r.code for r in reasons] == ["uncited_source"]
    assert chosen is not None and chosen.evidence.doc_id == "b"
    verdict, _, reasons = decide(claim, _candidate("Other.", 0.1), None, None, thresholds, has_citations=True)
    assert verdict == "unsupported" and [r.code for r in reasons] == ["low_similarity"]
    verdict, _, _ = decide(claim, None, None, _candidate("Talks resumed.", 0.9), thresholds, has_citations=False)
    assert verdict == "no_citation"


_SCORES = st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0))


@given(cited=_SCORES, in_document=_SCORES, elsewhere=st.floats(min_value=0.0, max_value=1.0),
       has_citations=st.booleans())
def test_the_search_elsewhere_is_skipped_only_where_it_cannot_change_the_verdict(
        cited: float | None, in_document: float | None, elsewhere: float, has_citations: bool) -> None:
    thresholds = Thresholds()
    claim = extract_facts("Talks resumed in Oslo.")
    found = (None if cited is None else _candidate("Talks resumed.", cited),
             None if in_document is None else _candidate("Talks resumed in Oslo.", in_document))
    if not needs_elsewhere(*found, thresholds, has_citations=has_citations):
        assert decide(claim, *found, _candidate("Talks resumed in Oslo.", elsewhere, "b"), thresholds,
                      has_citations=has_citations) == decide(claim, *found, None, thresholds,
                                                             has_citations=has_citations)
    # Without citations, or with nothing cited close enough, the best sentence elsewhere is needed.
    assert needs_elsewhere(*found, thresholds, has_citations=False)
    assert needs_elsewhere(_candidate("Other.", 0.0), None, thresholds, has_citations=True)


def test_quoted_citations_are_claims_where_the_splitter_would_merge_or_cut_them() -> None:
    first = "It runs on a thread as an async-first (ASGI) framework would."
    second = "gevent allows writing coroutine-based code."
    code = "@app.route('/')\ndef index():\n    return 'Hi.' Done."
    answer = f"{first} {second} {code}"
    assert [answer[a:b] for a, b in claim_spans(answer, [])] != [first, second, code]
    quotes = [(first, [(0, len(first))]), (second, [(0, len(second))]), (code, [(0, len(code))])]
    assert [answer[a:b] for a, b in claim_spans(answer, quotes)] == [first, second, code]
    # A quote's claims are the sentences the index cut in it; text around the quotes is split.
    two = "Talks resumed. They ended."
    answer = f"Intro here. {two} Outro there."
    spans = claim_spans(answer, [(two, [(0, 14), (15, len(two))]), ("absent", [(0, 6)])])
    assert [answer[a:b] for a, b in spans] == ["Intro here.", "Talks resumed.", "They ended.", "Outro there."]


def test_every_quoted_sentence_of_an_extractive_answer_is_supported(tmp_path: Path) -> None:
    first = "Flask runs each coroutine on a thread, as an async-first framework would."
    second = "gevent allows writing coroutine-based code that looks synchronous."
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "design.txt").write_text(f"Design\n\n{first}\n", encoding="utf-8")
    (corpus / "gevent.txt").write_text(f"Deploying with gevent\n\n{second}\n", encoding="utf-8")
    ingest([corpus], tmp_path / "index", HashingEmbedder())
    index = load_index(tmp_path / "index")
    citations = [Citation(doc_id=doc_id, start_char=index.documents[doc_id].text.index(text),
                          end_char=index.documents[doc_id].text.index(text) + len(text))
                 for doc_id, text in (("design", first), ("gevent", second))]
    answer = f"{first} {second}"  # joined, the splitter alone sees one sentence
    result = Checker(index, HashingEmbedder().encode).check(answer, citations)
    assert [check.text for check in result.sentences] == [first, second]
    assert [check.verdict for check in result.sentences] == ["supported", "supported"]


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root: Path = tmp_path_factory.mktemp("grounding")
    ingest([SEED_CORPUS], root / "index", HashingEmbedder())
    return load_index(root / "index")


def _span_citation(index: Index) -> tuple[Citation, str]:
    doc_id = "000_080912b23e7ff9db"
    start = index.documents[doc_id].text.index(SPAN)
    return Citation(doc_id=doc_id, start_char=start, end_char=start + len(SPAN)), doc_id


def test_checker_supports_the_cited_span_and_flags_corruptions(seed_index: Index) -> None:
    checker = Checker(seed_index, HashingEmbedder().encode)
    citation, doc_id = _span_citation(seed_index)
    answer = SPAN + " " + SPAN.replace("Risa Grais-Targow", "Maria Guaidó")
    result = checker.check(answer, [citation])
    first, second = result.sentences
    assert (first.verdict, first.start, first.end) == ("supported", 0, len(SPAN))
    assert first.evidence is not None and first.evidence.doc_id == doc_id
    assert seed_index.documents[doc_id].text[first.evidence.start_char:first.evidence.end_char] == SPAN
    assert second.verdict == "unsupported" and [r.code for r in second.reasons] == ["entity_missing"]
    assert answer[second.start:second.end] == second.text
    assert result.supported_share == 0.5


def test_checker_finds_a_claim_in_an_uncited_document(seed_index: Index) -> None:
    checker = Checker(seed_index, HashingEmbedder().encode)
    citation, doc_id = _span_citation(seed_index)
    other = next(sentence for sentence in seed_index.sentences
                 if sentence.doc_id != doc_id and len(sentence.text) > 80)
    result = checker.check(other.text, [citation])
    (check,) = result.sentences
    assert check.verdict == "unsupported"
    assert "uncited_source" in [r.code for r in check.reasons]
    assert check.evidence is not None and check.evidence.doc_id == other.doc_id


def test_checker_without_citations_says_no_citation_or_uses_the_question(seed_index: Index) -> None:
    checker = Checker(seed_index, HashingEmbedder().encode)
    assert [c.verdict for c in checker.check(SPAN).sentences] == ["no_citation"]
    result = checker.check(SPAN, question="What does Risa Grais-Targow say Maduro wants?")
    assert [c.verdict for c in result.sentences] == ["supported"]


def test_checker_rejects_impossible_citations(seed_index: Index) -> None:
    checker = Checker(seed_index, HashingEmbedder().encode)
    with pytest.raises(CitationError, match="unknown document"):
        checker.check(SPAN, [Citation(doc_id="nope", start_char=0, end_char=5)])
    with pytest.raises(CitationError, match="start_char 5 is the same as end_char 5"):
        checker.check(SPAN, [Citation(doc_id="000_080912b23e7ff9db", start_char=5, end_char=5)])
    with pytest.raises(CitationError, match="not inside its text"):
        checker.check(SPAN, [Citation(doc_id="000_080912b23e7ff9db", start_char=5, end_char=10**9)])


def test_grounded_check_writes_markdown_and_json_reports(seed_index: Index, tmp_path: Path) -> None:
    import json

    from grounded.cli import main

    citation, doc_id = _span_citation(seed_index)
    cited = {"doc_id": doc_id, "start_char": citation.start_char, "end_char": citation.end_char}
    lines = [{"id": "good", "answer": {"text": SPAN, "citations": [cited]}},
             {"answer": {"text": SPAN.replace("Risa Grais-Targow", "Maria Guaidó"), "citations": [cited]}}]
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    assert main(["check", str(answers), "--index", str(seed_index.root), "--out", str(tmp_path / "out"),
                 "--verifier", "off"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["aggregate"]["supported_share"] == 0.5
    assert report["aggregate"]["reasons"] == {"entity_missing": 1}
    assert [answer["id"] for answer in report["answers"]] == ["good", "2"]
    assert report["answers"][0]["sentences"][0]["evidence"]["text"] == SPAN
    assert "| entity_missing | 1 |" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_grounded_check_names_a_bad_line(seed_index: Index, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from grounded.cli import main

    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"answer": {"text": "Hi."}}\n{"answer": 3}\n', encoding="utf-8")
    assert main(["check", str(answers), "--index", str(seed_index.root), "--verifier", "off",
                 "--out", str(tmp_path / "out")]) == 2
    assert "answers.jsonl:2" in capsys.readouterr().err


@pytest.mark.slow
def test_checker_with_the_real_model_on_the_seeds(real_embedder: Embedder, tmp_path: Path) -> None:
    ingest([SEED_CORPUS], tmp_path / "index", real_embedder)
    index = load_index(tmp_path / "index")
    checker = Checker(index, real_embedder.encode)
    citation, _ = _span_citation(index)
    reworded = SPAN.replace("says", "said")
    verdicts = [check.verdict for check in checker.check(f"{SPAN} {reworded}", [citation]).sentences]
    assert verdicts == ["supported", "supported"]
    for corrupted, code in [(SPAN.replace("Risa Grais-Targow", "Maria Guaidó"), "entity_missing"),
                            (SPAN.replace("wants to win", "does not want to win"), "negation_flip")]:
        (check,) = checker.check(corrupted, [citation]).sentences
        assert check.verdict == "unsupported" and code in [reason.code for reason in check.reasons]


def test_a_verbatim_quote_of_the_cited_range_is_supported_whatever_the_vectors(seed_index: Index) -> None:
    def far(texts: Sequence[str]) -> npt.NDArray[np.float32]:  # one fixed vector, far from most sentences
        vectors = np.zeros((len(texts), seed_index.sentence_vectors.shape[1]), dtype=np.float32)
        vectors[:, 0] = 1.0
        return vectors

    checker = Checker(seed_index, far)
    citation, _ = _span_citation(seed_index)
    (quote,) = checker.check(SPAN, [citation]).sentences
    assert (quote.verdict, quote.score) == ("supported", 1.0)
    (changed,) = checker.check(SPAN.replace("Risa Grais-Targow", "Maria Guaidó"), [citation]).sentences
    assert changed.verdict == "unsupported"
