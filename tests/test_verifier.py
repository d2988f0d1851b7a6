"""The claim verifier in the checker: its window, its verdict beside the rules' reasons, the policy
that combines them, and the wire fields; with a stand-in verifier (the shipped model: test_verifier_model.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from grounding.checker import Checker
from grounding.records import Citation, Reason
from grounding.report import report_json
from grounding.verifier import Verification, combine, disagreement, precise_reasons, verdict_of, window_rows
from index.build import ingest
from index.load import load_index
from index.searcher import Index
from ingest.embedding import HashingEmbedder
from service.app import create_app
from service.engine import QueryEngine
from service.server import hand_over
from service.settings import load_settings
from tests.support.fake_verifier import WordVerifier
from tests.support.fakes import LIGHTHOUSE, ORCHARD, write_fake_corpus

LENS = "The original Fresnel lens was cleaned by a glazier from Brest."
BEAM = "Its beam now reaches twenty-two nautical miles on a clear night."
CAFE = "The café at the foot of the tower serves crêpes to visitors."
COST = "The restoration cost four million euros."
SUPPORTED = Verification(label="supported", probabilities=(0.9, 0.05, 0.05), model="m@1")


@pytest.fixture(scope="module")
def fake_index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("verifier")
    ingest([write_fake_corpus(root / "corpus", (LIGHTHOUSE, ORCHARD))], root / "index", HashingEmbedder(384))
    return load_index(root / "index")


def cite(index: Index, text: str) -> Citation:
    start = index.documents[LIGHTHOUSE.doc_id].text.index(text)
    return Citation(doc_id=LIGHTHOUSE.doc_id, start_char=start, end_char=start + len(text))


def test_the_window_is_the_cited_rows_and_one_neighbour_each_side_inside_the_document() -> None:
    assert window_rows(5, 6, 0, 10) == range(4, 7)
    assert window_rows(0, 2, 0, 10) == range(0, 3)
    assert window_rows(9, 10, 3, 10) == range(8, 10)
    assert window_rows(4, 5, 4, 5, neighbours=2) == range(4, 5)


def test_a_precise_rule_overrules_supported_and_nothing_else() -> None:
    found = precise_reasons("The restoration cost nine million euros.", COST)
    assert [reason.code for reason in found] == ["number_mismatch"]
    assert combine(SUPPORTED, found) == "contradicted"
    assert combine(SUPPORTED, ()) == "supported"
    unsure = Verification(label="not_enough_info", probabilities=(0.2, 0.1, 0.7), model="m@1")
    assert combine(unsure, found) == "not_enough_info"
    assert precise_reasons("The restoration cost four million euros, it said.", COST) == ()
    assert (verdict_of("supported"), verdict_of("contradicted"), verdict_of("not_enough_info")) == \
        ("supported", "unsupported", "unsupported")


def test_disagreement_says_both_sides_only_when_they_disagree() -> None:
    missing = Reason(code="entity_missing", message="the evidence does not name Brest")
    said = disagreement("supported", "unsupported", SUPPORTED, (missing,))
    assert said is not None and "m@1" in said and "supported by" in said and "does not name Brest" in said
    assert disagreement("supported", "supported", SUPPORTED, ()) is None
    low = Reason(code="low_similarity", message="partial match")
    assert disagreement("supported", "partially_supported", SUPPORTED, (low,)) is None
    contradicted = Verification(label="contradicted", probabilities=(0.1, 0.8, 0.1), model="m@1")
    said = disagreement("contradicted", "supported", contradicted, ())
    assert said is not None and "contradicted by" in said and "no problem" in said
    assert disagreement("contradicted", "unsupported", contradicted, (missing,)) is None


def test_the_verifier_decides_and_the_rules_keep_their_reasons(fake_index: Index) -> None:
    verifier = WordVerifier(contradicting=["glazier"])
    checker = Checker(fake_index, HashingEmbedder(384).encode, verifier=verifier)
    claim = "A glazier from Brest cleaned the original Fresnel lens."
    result = checker.check(claim, [cite(fake_index, LENS)])
    (check,) = result.sentences
    assert check.verdict == "unsupported" and check.verifier is not None
    assert check.verifier.label == "contradicted" and check.verifier.model == "word-verifier@test"
    assert check.rules_verdict in ("supported", "partially_supported")
    assert check.disagreement is not None and "contradicted by" in check.disagreement
    # The verifier read the cited sentence with its neighbours, as one window of the document.
    window = check.verifier.window
    document = fake_index.documents[LIGHTHOUSE.doc_id].text
    assert document[window.start_char:window.end_char] == window.text
    assert LENS in window.text and BEAM in window.text and "keeper's cottage." in window.text
    assert verifier.asked == [(claim, window.text)]


def test_a_claim_drawn_from_two_sentences_is_supported_through_the_neighbours(fake_index: Index) -> None:
    claim = "The lens was cleaned by a glazier from Brest and its beam reaches twenty-two nautical miles."
    rules = Checker(fake_index, HashingEmbedder(384).encode).check(claim, [cite(fake_index, LENS)])
    verified = Checker(fake_index, HashingEmbedder(384).encode, verifier=WordVerifier()).check(
        claim, [cite(fake_index, LENS)])
    assert rules.sentences[0].verdict != "supported"
    assert verified.sentences[0].verdict == "supported"
    assert verified.sentences[0].rules_verdict == rules.sentences[0].verdict
    assert verified.sentences[0].disagreement is not None


def test_a_verbatim_quote_is_not_sent_to_the_verifier(fake_index: Index) -> None:
    verifier = WordVerifier(contradicting=["beam"])
    checker = Checker(fake_index, HashingEmbedder(384).encode, verifier=verifier)
    result = checker.check(f"{LENS} {BEAM}", [cite(fake_index, f"{LENS} {BEAM}")])
    assert [check.verdict for check in result.sentences] == ["supported", "supported"]
    assert all(check.verifier is None for check in result.sentences)
    assert verifier.asked == []


def test_a_long_citation_is_read_around_its_best_sentence(fake_index: Index) -> None:
    document = fake_index.documents[LIGHTHOUSE.doc_id].text
    whole = Citation(doc_id=LIGHTHOUSE.doc_id, start_char=0, end_char=len(document))
    checker = Checker(fake_index, HashingEmbedder(384).encode, verifier=WordVerifier())
    (check,) = checker.check("The café serves crêpes to the visitors of the tower.", [whole]).sentences
    assert check.verifier is not None
    window = check.verifier.window.text
    # Three cited sentences around the best one and a neighbour either side: not the whole article.
    assert CAFE in window and "reopened on Saturday" not in window and "maritime museum" not in window


def test_only_claims_the_citations_do_not_support_are_searched_for_elsewhere(
        fake_index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned: list[int] = []
    scan = Checker._elsewhere_cosines

    def counting(self: Checker, vectors: object) -> object:
        scanned.append(len(vectors))  # type: ignore[arg-type]
        return scan(self, vectors)  # type: ignore[arg-type]

    monkeypatch.setattr(Checker, "_elsewhere_cosines", counting)
    claim = "The lens was cleaned by a glazier from Brest and its beam reaches twenty-two nautical miles."
    checker = Checker(fake_index, HashingEmbedder(384).encode, verifier=WordVerifier(contradicting=["café"]))
    # The verifier reads the cited window as supporting the claim: no scan of every sentence vector.
    (check,) = checker.check(claim, [cite(fake_index, LENS)]).sentences
    assert check.verdict == "supported" and scanned == []
    # Claims it does not support: one that the rules find elsewhere in the cited document needs no
    # scan; the two found nowhere near the citation are searched for in one scan.
    answer = f"The café serves crêpes. {claim} The keeper sailed to Oslo. A pilot retired to Lisbon."
    result = checker.check(answer, [cite(fake_index, LENS)])
    assert [check.verdict for check in result.sentences] == ["unsupported", "supported", "unsupported", "unsupported"]
    assert scanned == [2]
    # The rules alone scan for what they do not find in the cited range or its document.
    scanned.clear()
    Checker(fake_index, HashingEmbedder(384).encode).check(claim, [cite(fake_index, LENS)])
    assert scanned == [1]


def test_without_a_verifier_the_rules_decide_and_no_verifier_field_is_set(fake_index: Index) -> None:
    (check,) = Checker(fake_index, HashingEmbedder(384).encode).check(
        "The restoration cost nine million euros.", [cite(fake_index, COST)]).sentences
    assert check.verdict == "unsupported" and check.rules_verdict == "unsupported"
    assert check.verifier is None and check.disagreement is None


def test_uncited_claims_are_not_verified(fake_index: Index) -> None:
    verifier = WordVerifier()
    (check,) = Checker(fake_index, HashingEmbedder(384).encode, verifier=verifier).check(COST).sentences
    assert check.verdict == "no_citation" and check.verifier is None and verifier.asked == []


def test_the_report_carries_the_verifier_and_the_disagreement(fake_index: Index) -> None:
    from grounding.answers import AnswerToCheck

    checker = Checker(fake_index, HashingEmbedder(384).encode, verifier=WordVerifier(contradicting=["glazier"]))
    citation = cite(fake_index, LENS)
    claim = "A glazier from Brest cleaned the original Fresnel lens."
    result = checker.check(claim, [citation])
    report = report_json([AnswerToCheck(answer_id="a", text=claim, citations=(citation,), question=None)], [result])
    sentence = report["answers"][0]["sentences"][0]
    assert sentence["verifier"]["label"] == "contradicted"
    assert set(sentence["verifier"]["probabilities"]) == {"supported", "contradicted", "not_enough_info"}
    assert "disagreement" in sentence and report["aggregate"]["disagreements"] == 1


@pytest.fixture
def verified_client(tmp_path: Path, fake_index: Index) -> Iterator[TestClient]:
    engine = QueryEngine(fake_index, HashingEmbedder(384), verifier=WordVerifier(contradicting=["glazier"]))
    with TestClient(create_app(load_settings(index_dir=tmp_path), engine_loader=hand_over(engine))) as client:
        yield client
    gc.unfreeze()


def test_check_says_the_verifier_and_the_rules_on_the_wire(verified_client: TestClient, fake_index: Index) -> None:
    citation = cite(fake_index, LENS)
    claim = "A glazier from Brest cleaned the original Fresnel lens."
    body = {"answer": {"text": f"{LENS} {claim}", "citations": [
        {"doc_id": citation.doc_id, "start_char": citation.start_char, "end_char": citation.end_char}]}}
    response = verified_client.post("/check", json=body)
    assert response.status_code == 200
    quoted, changed = response.json()["sentences"]
    assert quoted["verdict"] == "supported" and "verifier" not in quoted and "disagreement" not in quoted
    assert changed["verdict"] == "unsupported" and changed["verifier"]["label"] == "contradicted"
    assert changed["rules_verdict"] != "unsupported" and "the rules say" in changed["disagreement"]
    assert changed["verifier"]["window"]["text"].startswith("Volunteers")


def test_the_setting_turns_the_verifier_off_or_names_a_folder(tmp_path: Path) -> None:
    from grounding.verifier_model import DEFAULT_VERIFIER

    assert load_settings(index_dir=tmp_path).engine_config().verifier == DEFAULT_VERIFIER
    assert load_settings(index_dir=tmp_path, verifier="off").engine_config().verifier is None
    assert load_settings(index_dir=tmp_path, verifier=str(tmp_path)).engine_config().verifier == tmp_path


def test_grounded_check_goes_on_past_bad_lines_names_them_and_exits_2(
        fake_index: Index, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from grounded.cli import main

    citation = cite(fake_index, COST)
    cited = {"doc_id": citation.doc_id, "start_char": citation.start_char, "end_char": citation.end_char}
    lines = [json.dumps({"id": "first", "answer": {"text": COST, "citations": [cited]}}),
             "{not json",
             json.dumps({"answer": {"text": COST, "citations": [{**cited, "doc_id": "nowhere"}]}}),
             json.dumps({"answer": {"text": COST, "citations": [{**cited, "start_char": 50, "end_char": 10}]}}),
             json.dumps({"answer": 3}),
             json.dumps({"id": "last", "answer": {"text": COST, "citations": [cited]}})]
    answers = tmp_path / "answers.jsonl"
    answers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(["check", str(answers), "--index", str(fake_index.root), "--out", str(out), "--verifier", "off"])
    errors = capsys.readouterr().err
    assert code == 2
    for number, said in ((2, "not valid JSON"), (3, "citation names unknown document 'nowhere'"),
                         (4, "citation of 'harbour-light': start_char 50 is after end_char 10"), (5, "expected")):
        assert f"answers.jsonl:{number}: {said}" in errors, number
    assert "4 answer line(s)" in errors and "the other 2" in errors
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [answer["id"] for answer in report["answers"]] == ["first", "last"]
    assert len(report["problems"]) == 4
    assert report["problems"][0].endswith(":2: not valid JSON (Expecting property name enclosed in double quotes)")
    assert "could not be checked" in (out / "report.md").read_text(encoding="utf-8")
