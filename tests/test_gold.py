"""The shipped gold set against the seed corpus, and the loader's and verifier's error paths."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.errors import GoldSetError
from eval.gold import (
    KINDS,
    EvidenceSpan,
    GoldQuestion,
    TextAnchor,
    default_gold_path,
    load_gold,
    parse_gold,
    read_document_texts,
    resolve_gold,
    resolve_span,
    verify_gold,
)
from tests.support.paths import SEED_CORPUS

CORPUS = SEED_CORPUS
MINIMUM_PER_KIND: dict[str, int] = {
    "direct": 15,
    "paraphrase": 10,
    "multi_doc": 6,
    "unanswerable": 6,
}


@pytest.fixture(scope="module")
def gold() -> tuple[GoldQuestion, ...]:
    return load_gold()


@pytest.fixture(scope="module")
def corpus_texts() -> dict[str, str]:
    return read_document_texts(CORPUS)


# ---- the shipped set ----------------------------------------------------------------------------


def test_default_path_is_package_data() -> None:
    assert default_gold_path().is_file()
    assert default_gold_path().parent.name == "data"


def test_every_span_matches_the_corpus_text(
    gold: tuple[GoldQuestion, ...], corpus_texts: dict[str, str]
) -> None:
    assert len(corpus_texts) == 5
    assert verify_gold(gold, corpus_texts) == []
    for question in gold:
        for span in question.evidence:
            assert corpus_texts[span.doc_id][span.start : span.end] == span.text


def test_size_and_kind_counts(gold: tuple[GoldQuestion, ...]) -> None:
    assert len(gold) >= 45
    counts: Counter[str] = Counter(question.kind for question in gold)
    for kind, minimum in MINIMUM_PER_KIND.items():
        assert counts[kind] >= minimum, (kind, counts[kind])


def test_every_seed_document_has_five_questions(
    gold: tuple[GoldQuestion, ...], corpus_texts: dict[str, str]
) -> None:
    per_document = Counter(doc_id for question in gold for doc_id in question.doc_ids)
    assert set(per_document) == set(corpus_texts)
    assert min(per_document.values()) >= 5, per_document


def test_query_ids_are_unique(gold: tuple[GoldQuestion, ...]) -> None:
    assert len({question.query_id for question in gold}) == len(gold)


def test_kinds_agree_with_evidence(gold: tuple[GoldQuestion, ...]) -> None:
    for question in gold:
        assert question.answerable == (question.kind != "unanswerable"), question.query_id
        documents = len(question.doc_ids)
        if question.kind == "multi_doc":
            assert documents >= 2, question.query_id
        elif question.kind in ("direct", "paraphrase"):
            assert documents == 1, question.query_id


def test_spans_stay_within_one_paragraph(gold: tuple[GoldQuestion, ...]) -> None:
    for question in gold:
        for span in question.evidence:
            assert "\n" not in span.text, question.query_id
            assert span.text == span.text.strip(), question.query_id


def test_questions_are_not_repeated(gold: tuple[GoldQuestion, ...]) -> None:
    normalized = [question.question.strip().lower() for question in gold]
    assert len(set(normalized)) == len(normalized)


# ---- loader errors ------------------------------------------------------------------------------


def _line(**overrides: object) -> str:
    record: dict[str, object] = {
        "query_id": "q1",
        "question": "Who mediated?",
        "kind": "direct",
        "evidence": [{"doc_id": "d", "start": 0, "end": 6, "text": "Norway"}],
    }
    record.update(overrides)
    return json.dumps(record)


def test_parses_a_valid_line() -> None:
    (question,) = parse_gold([_line(), ""])
    assert question == GoldQuestion(
        query_id="q1",
        question="Who mediated?",
        kind="direct",
        evidence=(EvidenceSpan(doc_id="d", start=0, end=6, text="Norway"),),
    )
    assert question.answerable
    assert set(KINDS) == set(MINIMUM_PER_KIND)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        (_line(kind="trivia"), "kind 'trivia'"),
        (_line(query_id=""), "query_id must be"),
        (_line(extra=1), "unknown keys"),
        (_line(evidence=[{"doc_id": "d", "start": 0, "end": 6}]), "missing keys"),
        (_line(evidence=[{"doc_id": "d", "start": 6, "end": 6, "text": ""}]), "start < end"),
        (_line(evidence=[{"doc_id": "d", "start": 0, "end": 6, "text": "Norw"}]), "length"),
        (_line(evidence=[{"doc_id": "d", "start": True, "end": 6, "text": "Norway"}]), "integers"),
        (_line(evidence=[]), "unanswerable"),
        (_line(kind="unanswerable"), "unanswerable"),
        (_line(kind="multi_doc"), "two or more documents"),
        (_line(split="train"), "split 'train'"),
        (_line(evidence=[{"doc_id": "d", "start": 0, "text": "Norway"}]), "missing keys"),
        (_line(evidence=[{"doc_id": "d", "text": " "}]), "text must be"),
    ],
)
def test_schema_violations_name_the_line(line: str, message: str) -> None:
    with pytest.raises(GoldSetError, match=message) as raised:
        parse_gold(["", line], source="gold.jsonl")
    assert "gold.jsonl:2" in str(raised.value)


def test_duplicate_query_id_names_both_lines() -> None:
    with pytest.raises(GoldSetError, match=r"gold\.jsonl:3: query_id 'q1' already used on line 1"):
        parse_gold([_line(), _line(query_id="q2"), _line()], source="gold.jsonl")


def test_load_gold_reads_a_file_and_reports_missing_ones(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(_line() + "\n", encoding="utf-8")
    assert len(load_gold(path)) == 1
    with pytest.raises(GoldSetError, match="cannot read"):
        load_gold(tmp_path / "absent.jsonl")


def test_verify_reports_each_kind_of_problem() -> None:
    texts = {"d": "Norway mediated."}
    questions = [
        GoldQuestion(
            query_id="q1",
            question="?",
            kind="direct",
            evidence=(
                EvidenceSpan(doc_id="d", start=0, end=6, text="Norway"),  # fine
                EvidenceSpan(doc_id="e", start=0, end=6, text="Norway"),  # unknown document
                EvidenceSpan(doc_id="d", start=10, end=40, text="x" * 30),  # past the end
                EvidenceSpan(doc_id="d", start=1, end=7, text="Norway"),  # shifted by one
            ),
        )
    ]
    problems = verify_gold(questions, texts)
    assert len(problems) == 3
    assert "unknown doc_id 'e'" in problems[0]
    assert "out of range" in problems[1]
    assert "text mismatch" in problems[2]


def test_read_document_texts_keeps_carriage_returns(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"one\r\ntwo")
    (tmp_path / "b.md").write_text("ignored", encoding="utf-8")
    assert read_document_texts(tmp_path) == {"a": "one\r\ntwo"}


# ---- splits ----------------------------------------------------------------------------------


def test_split_is_optional_and_parsed() -> None:
    (without,) = parse_gold([_line()])
    (tuned,) = parse_gold([_line(split="tune")])
    (held_out,) = parse_gold([_line(split="test")])
    assert (without.split, tuned.split, held_out.split) == (None, "tune", "test")


# ---- text-anchored spans -----------------------------------------------------------------------


def test_a_span_without_offsets_is_a_text_anchor() -> None:
    line = _line(kind="multi_doc", evidence=[
        {"doc_id": "d", "start": 0, "end": 6, "text": "Norway"},
        {"doc_id": "e", "text": "Mexico hosted the talks."},
    ])
    (question,) = parse_gold([line])
    assert question.evidence == (EvidenceSpan(doc_id="d", start=0, end=6, text="Norway"),)
    assert question.anchors == (TextAnchor(doc_id="e", text="Mexico hosted the talks."),)
    assert question.answerable
    assert question.doc_ids == ("d", "e")


def test_resolve_span_prefers_the_exact_text() -> None:
    document = "Intro.\nNorway mediated the talks. Mexico hosted them."
    start, end = resolve_span(document, TextAnchor(doc_id="d", text="Mexico hosted them."))
    assert document[start:end] == "Mexico hosted them."


def test_resolve_span_maps_a_whitespace_normalised_match_back_to_the_original() -> None:
    document = "Glossary\n\nNorway  mediated\n   the talks\u00a0in Mexico.  Then more."
    anchor = TextAnchor(doc_id="d", text=" Norway mediated the talks in\nMexico. ")
    start, end = resolve_span(document, anchor)
    assert document[start:end] == "Norway  mediated\n   the talks\u00a0in Mexico."


@pytest.mark.parametrize(
    ("document", "text", "message"),
    [
        ("Norway. Norway.", "Norway.", "more than once"),
        ("Norway  said. Norway\nsaid.", "Norway said.", "more than once once whitespace"),
        ("Norway mediated.", "Mexico hosted.", "not in the document"),
        ("Norway mediated.", "   ", "blank"),
    ],
)
def test_resolve_span_rejects_missing_and_ambiguous_text(document: str, text: str, message: str) -> None:
    with pytest.raises(GoldSetError, match=message):
        resolve_span(document, TextAnchor(doc_id="d", text=text))


def _anchored(query_id: str, *anchors: TextAnchor) -> GoldQuestion:
    return GoldQuestion(query_id=query_id, question="?", kind="direct", anchors=anchors)


def test_verify_reports_unresolvable_and_ambiguous_anchors_with_query_and_document() -> None:
    texts = {"guide/install": "Run make.  Run make.\nThen   test it.", "faq": "Ask."}
    questions = [
        _anchored("h1", TextAnchor(doc_id="guide/install", text="Then test it.")),  # resolves
        _anchored("h2", TextAnchor(doc_id="guide/install", text="Run make.")),  # ambiguous
        _anchored("h3", TextAnchor(doc_id="faq", text="Answer.")),  # absent
        _anchored("h4", TextAnchor(doc_id="gone", text="Ask.")),  # unknown document
    ]
    problems = verify_gold(questions, texts)
    assert len(problems) == 3
    assert problems[0].startswith("h2 anchor[0] in 'guide/install'") and "more than once" in problems[0]
    assert problems[1].startswith("h3 anchor[0] in 'faq'") and "not in the document" in problems[1]
    assert problems[2] == "h4 anchor[0]: unknown doc_id 'gone'"


def test_resolve_gold_turns_anchors_into_offset_spans() -> None:
    texts = {"guide/install": "Setup\n\nThen   test it."}
    offset = GoldQuestion(query_id="h0", question="?", kind="direct",
                          evidence=(EvidenceSpan(doc_id="guide/install", start=0, end=5, text="Setup"),))
    anchored = _anchored("h1", TextAnchor(doc_id="guide/install", text="Then test it."))
    unchanged, resolved = resolve_gold([offset, anchored], texts)
    assert unchanged is offset
    assert resolved.anchors == ()
    assert resolved.evidence == (EvidenceSpan(doc_id="guide/install", start=7, end=22, text="Then   test it."),)
    assert verify_gold([resolved], texts) == []
    with pytest.raises(GoldSetError, match=r"h2 in 'guide/install': .*not in the document"):
        resolve_gold([_anchored("h2", TextAnchor(doc_id="guide/install", text="Absent."))], texts)
    with pytest.raises(GoldSetError, match="h3: unknown doc_id 'x'"):
        resolve_gold([_anchored("h3", TextAnchor(doc_id="x", text="Absent."))], texts)
