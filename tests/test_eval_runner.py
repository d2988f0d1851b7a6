"""The benchmark runner on a tiny hand-made corpus, plus its pure scoring pieces."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from eval.confidence import compare, holm
from eval.gold import EvidenceSpan, GoldQuestion
from eval.grounding import answer_grounded, citation_problems, supported_share
from eval.records import EvalResult, NamedConfig, QueryOutcome, RetrievedPassage
from eval.report import write_reports
from eval.runner import ablation_configs, run_queries, to_outcome
from eval.scoring import doc_ranking, furniture_by_document, overlaps_furniture, score_gold, score_gold_outcome
from index.build import ingest
from index.load import load_index
from ingest.embedding import HashingEmbedder
from ingest.records import Document, Region
from ranking import AnswerConfig, RankingConfig, RetrievalConfig
from service.engine import EngineConfig, QueryEngine
from service.records import Query
from tests.support.eval_corpus import CORPUS, write_texts

THRESHOLD = 0.4


def _span(doc_id: str, sentence: str) -> EvidenceSpan:
    start = CORPUS[doc_id].index(sentence)
    return EvidenceSpan(doc_id=doc_id, start=start, end=start + len(sentence), text=sentence)


QUESTIONS = (
    GoldQuestion(query_id="q1", question="Why do volcanoes erupt with magma?", kind="direct",
                 evidence=(_span("alpha", "Volcanoes erupt when magma rises through the crust."),)),
    GoldQuestion(query_id="q2", question="How do honeybees communicate?", kind="direct",
                 evidence=(_span("beta", "Honeybees communicate with a waggle dance."),)),
    GoldQuestion(query_id="q3", question="What cools into basalt rock, and where did keepers live?",
                 kind="multi_doc",
                 evidence=(_span("alpha", "Lava flows cool slowly into dark basalt rock."),
                           _span("gamma", "Keepers once lived inside the stone towers."))),
    # Deliberately labelled with evidence the question does not match: the engine ranks gamma
    # first and answers from it, so this question must score as a miss at rank 1.
    GoldQuestion(query_id="q4", question="Which ships need rotating lamps at night?",
                 kind="paraphrase",
                 evidence=(_span("beta", "The dance tells other bees where the flowers are."),)),
    GoldQuestion(query_id="q5", question="What is the boiling point of mercury?",
                 kind="unanswerable"),
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueryEngine]:
    """A hashing-embedder engine over the three documents, abstaining below 0.4."""
    root = tmp_path_factory.mktemp("runner")
    ingest([write_texts(root / "corpus")], root / "index", HashingEmbedder())
    index = load_index(root / "index")
    assert [chunk.chunk_id for chunk in index.chunks] == ["alpha#0000", "beta#0000", "gamma#0000"]
    assert all(not document.excluded for document in index.documents.values())
    yield QueryEngine(index, HashingEmbedder(),
                      EngineConfig(ranking=RankingConfig(answer=AnswerConfig(min_score=THRESHOLD))))


@pytest.fixture(scope="module")
def result(engine: QueryEngine) -> EvalResult:
    configs = ablation_configs(engine.config.ranking.retrieval)
    outcomes = run_queries(engine, QUESTIONS, configs)
    index = engine.index
    return score_gold(
        outcomes, QUESTIONS, configs,
        chunks=[(chunk.chunk_id, chunk.doc_id, chunk.start, chunk.end) for chunk in index.chunks],
        documents=index.documents, threshold=THRESHOLD, index_version=index.index_version,
        model_id=index.manifest.model_id, resamples=200)


def test_every_configuration_answers_every_question(result: EvalResult) -> None:
    names = [config.config.name for config in result.configs]
    assert names[:2] == ["sparse", "dense"]
    assert {"hybrid-rrf", "hybrid-rrf+rescore", "hybrid-convex-0.5",
            "hybrid-convex-0.5+rescore", "hybrid-convex-0.3", "hybrid-convex-0.7"} <= set(names)
    assert [config.config.name for config in result.configs if config.config.is_default] == [
        "hybrid-maxz-0.5+rescore"]
    for config in result.configs:
        assert [record.outcome.query_id for record in config.records] == [
            "q1", "q2", "q3", "q4", "q5"]


def test_served_configuration_scores_as_derived_by_hand(result: EvalResult) -> None:
    served = result.default
    ranks = {record.outcome.query_id: record.span_ranks for record in served.records}
    # q1, q2: the only matching document is first. q3: alpha and gamma hold the two spans and
    # rank 1 and 2. q4: its (mislabelled) evidence in beta is ranked 3rd of the 3 chunks.
    assert ranks == {"q1": (1,), "q2": (1,), "q3": (1, 2), "q4": (3,), "q5": ()}
    values = {name: aggregate.mean for name, aggregate in served.aggregates.items()}
    assert values["evidence_hit@1"] == 0.75  # q4 misses
    assert values["evidence_hit@3"] == 1.0
    assert values["evidence_recall@5"] == 1.0
    # Span qrels: q4's relevant chunk is beta#0000 at rank 3, the others' relevant chunks lead.
    # RR@10 = (1 + 1 + 1 + 1/3) / 4; nDCG@10 = (1 + 1 + 1 + 1/log2(4)) / 4 = 3.5 / 4.
    assert values["RR@10"] == pytest.approx((3 + 1 / 3) / 4)
    assert values["nDCG@10"] == pytest.approx(0.875)
    assert served.aggregates["nDCG@10"].count == 4  # unanswerable q5 is left out
    # Answers: q1-q3 cite a gold sentence; q4 answers from gamma; q5 abstains.
    assert values["answer_hit_rate"] == 0.75
    assert values["abstention_rate"] == 1.0
    assert values["false_abstention_rate"] == 0.0
    assert values["abstention_accuracy"] == 1.0
    assert values["citation_exactness"] == 1.0
    assert values["answer_exactness"] == 1.0
    assert values["answer_grounding"] == 1.0  # the checker: every extractive sentence supported
    assert values["furniture_noise@5"] == 0.0
    assert result.citation_exactness == 1.0
    verdicts = {record.outcome.query_id: record.verdict for record in served.records}
    assert verdicts["q1"] == "ok: answer cites gold evidence"
    assert verdicts["q4"].startswith("wrong: answer cites no gold evidence")
    assert verdicts["q5"] == "ok: abstained"


def test_every_aggregate_has_an_interval_around_its_mean(result: EvalResult) -> None:
    for config in result.configs:
        for aggregate in config.aggregates.values():
            assert aggregate.low <= aggregate.mean + 1e-12
            assert aggregate.mean <= aggregate.high + 1e-12


def test_calibration_separates_the_unanswerable_question(result: EvalResult) -> None:
    calibration = result.calibration
    assert calibration is not None
    scores = {r.outcome.query_id: r.outcome.answer_score for r in result.default.records}
    answerable = [scores[query_id] for query_id in ("q1", "q2", "q3", "q4")]
    assert scores["q5"] < min(answerable)  # the corpus makes the separation possible
    assert calibration.recommended.errors == 0
    assert calibration.recommended.threshold == pytest.approx((scores["q5"] + min(answerable)) / 2)
    assert (calibration.answerable, calibration.unanswerable) == (4, 1)


def test_comparisons_cover_each_other_configuration(result: EvalResult) -> None:
    others = {config.config.name for config in result.configs if not config.config.is_default}
    assert {(c.config, c.metric) for c in result.comparisons} == {
        (name, metric) for name in others for metric in ("nDCG@10", "evidence_hit@5")}
    assert all(c.p_value <= c.p_holm <= 1.0 for c in result.comparisons)


def test_citation_check_detects_a_forged_passage(engine: QueryEngine) -> None:
    texts = {doc_id: document.text for doc_id, document in engine.index.documents.items()}
    answer = engine.query(Query(question=QUESTIONS[0].question), use_cache=False)
    assert citation_problems(answer, texts) == (len(answer.passages) + 1, [])
    first = answer.passages[0]
    forged_text = dataclasses.replace(first, text=first.text.replace("magma", "lava"))
    shifted = dataclasses.replace(first, start=first.start + 1, end=first.end + 1)
    for forged in (forged_text, shifted):
        result = dataclasses.replace(answer, passages=(forged, *answer.passages[1:]))
        checked, problems = citation_problems(result, texts)
        assert checked == len(answer.passages) + 1
        assert len(problems) == 1 and problems[0].startswith("passage 1 (alpha#0000)")
        outcome = to_outcome("served", QUESTIONS[0], result, texts)
        assert outcome.citation_problems == tuple(problems)


def test_grounding_requires_verbatim_sentences_inside_the_cited_passage(
        engine: QueryEngine) -> None:
    texts = {doc_id: document.text for doc_id, document in engine.index.documents.items()}
    result = engine.query(Query(question=QUESTIONS[0].question), use_cache=False)
    assert result.answer is not None
    assert answer_grounded(result, texts) is True
    reworded = dataclasses.replace(result.answer, text=result.answer.text + " Probably.")
    assert answer_grounded(dataclasses.replace(result, answer=reworded), texts) is False
    citation = result.answer.citations[0]
    wrong_rank = dataclasses.replace(citation, passage_rank=2)  # rank 2 is another document
    moved = dataclasses.replace(result.answer, citations=(wrong_rank,))
    assert answer_grounded(dataclasses.replace(result, answer=moved), texts) is False
    abstained = dataclasses.replace(result, answer=None, abstention_reason="no")
    assert answer_grounded(abstained, texts) is None


def test_answer_grounding_is_the_checkers_supported_share(engine: QueryEngine) -> None:
    texts = {doc_id: document.text for doc_id, document in engine.index.documents.items()}
    result = engine.query(Query(question=QUESTIONS[0].question), use_cache=False)
    assert result.answer is not None
    assert supported_share(result, engine.check) == 1.0
    # A second sentence with a made-up number: string equality only says "not exact"; the checker
    # says which half is unsupported.
    first = result.answer.citations[0].text
    altered = dataclasses.replace(result.answer, text=f"{first} It erupted 4096 times in 1850.")
    corrupted = dataclasses.replace(result, answer=altered)
    assert supported_share(corrupted, engine.check) == 0.5
    outcome = to_outcome("served", QUESTIONS[0], corrupted, texts, check=engine.check)
    assert (outcome.grounded, outcome.supported_share) == (False, 0.5)
    measures = score_gold_outcome(outcome, QUESTIONS[0], {}, {}, threshold=0.0).measures
    assert (measures["answer_exactness"], measures["answer_grounding"]) == (0.0, 0.5)
    assert supported_share(dataclasses.replace(result, answer=None), engine.check) is None


def _passage(doc_id: str, start: int, end: int, chunk_id: str = "c") -> RetrievedPassage:
    return RetrievedPassage(chunk_id=chunk_id, doc_id=doc_id, start=start, end=end, score=1.0,
                            excerpt="")


def _outcome(query_id: str, passages: tuple[RetrievedPassage, ...],
             config: str = "served") -> QueryOutcome:
    return QueryOutcome(config=config, query_id=query_id, question="?", kind="direct",
                        passages=passages, answer=None, abstention_reason="none",
                        answer_score=0.1, citations_checked=len(passages), citation_problems=(),
                        grounded=None)


def test_furniture_overlap_per_document() -> None:
    document = Document(doc_id="d", source="d.txt", text="x" * 100, title="d", content_hash="h",
                        excluded=(Region(start=40, end=50, reason="furniture:share"),
                                  Region(start=60, end=70, reason="duplicate")))
    documents = {"d": document}
    assert overlaps_furniture(_passage("d", 45, 55), documents)
    assert not overlaps_furniture(_passage("d", 50, 60), documents)  # touches only
    assert not overlaps_furniture(_passage("d", 62, 68), documents)  # a duplicate, not furniture
    noise = furniture_by_document(
        [_outcome("a", (_passage("d", 0, 41), _passage("d", 70, 90))),
         _outcome("b", (_passage("d", 0, 10),))], documents)
    assert len(noise) == 1
    assert (noise[0].passages, noise[0].noisy_passages, noise[0].furniture_chars) == (3, 1, 10)
    assert noise[0].share == pytest.approx(1 / 3)


def test_false_abstention_verdict_names_score_threshold_and_evidence_rank() -> None:
    question = GoldQuestion(query_id="a", question="?", kind="direct",
                            evidence=(EvidenceSpan(doc_id="d", start=10, end=20, text="y" * 10),))
    outcome = _outcome("a", (_passage("d", 50, 60), _passage("d", 5, 25)))
    record = score_gold_outcome(outcome, question, {}, {}, threshold=0.35)
    assert record.span_ranks == (2,)
    assert record.measures["evidence_hit@1"] == 0.0
    assert record.measures["evidence_hit@2"] == 1.0
    assert record.measures["false_abstention_rate"] == 1.0
    assert "answer_hit_rate" not in record.measures  # abstained: no answer to judge
    assert record.verdict == ("wrong: false abstention (best answer score 0.100 < threshold "
                              "0.350; first evidence at passage rank 2)")


def test_doc_ranking_keeps_first_occurrence_and_maps_ids_back() -> None:
    passages = (_passage("a%2Fb", 0, 1), _passage("c", 0, 1), _passage("a%2Fb", 5, 9))
    assert doc_ranking(passages, {"a%2Fb": "a/b", "c": "c"}) == ["a/b", "c"]


def test_holm_adjustment_by_hand() -> None:
    # Sorted: 0.01 x3 = 0.03; 0.03 x2 = 0.06; 0.04 x1 = 0.04 -> kept monotone at 0.06.
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_default_not_in_the_sweep_gets_its_own_row() -> None:
    default = RetrievalConfig(fusion="convex", alpha=0.6)
    configs = ablation_configs(default)
    served = [config for config in configs if config.is_default]
    assert [(config.name, config.retrieval) for config in served] == [
        ("hybrid-convex-0.6+rescore", default)]
    tuned = RetrievalConfig(sentence_weight=0.25)
    names = [config.name for config in ablation_configs(tuned) if config.is_default]
    assert names == ["hybrid-maxz-0.5+rescore"]  # every row inherits the tuned knob


def test_compare_pairs_questions_by_id() -> None:
    from eval.records import ConfigResult, QueryRecord

    def config_result(name: str, values: dict[str, float], default: bool) -> ConfigResult:
        records = tuple(QueryRecord(outcome=_outcome(query_id, (), name), ranking=(),
                                    measures={"nDCG@10": value}, span_ranks=(),
                                    answer_hit=None, verdict="")
                        for query_id, value in values.items())
        return ConfigResult(config=NamedConfig(name=name, retrieval=RetrievalConfig(),
                                               is_default=default),
                            aggregates={}, records=records)

    served = config_result("served", {"a": 0.5, "b": 1.0}, default=True)
    # Listed in another order: pairing by id gives differences +0.5 and 0.0, mean +0.25.
    other = config_result("other", {"b": 1.0, "a": 1.0}, default=False)
    (comparison,) = compare([served, other], ["nDCG@10", "evidence_hit@5"], resamples=200)
    assert comparison.mean_difference == pytest.approx(0.25)
    assert comparison.count == 2


def test_reports_are_written(result: EvalResult, tmp_path: Path) -> None:
    written = write_reports(result, tmp_path / "out", command="grounded eval --index x")
    assert [path.name for path in written] == ["report.md", "report.json",
                                               "evidence_hit_at_k.png"]
    markdown = (tmp_path / "out" / "report.md").read_text(encoding="utf-8")
    for heading in ("## Summary", "## Ablation", "## Paired comparisons",
                    "## Abstention threshold calibration", "## Page-furniture noise",
                    "## Per-question results", "### q4 (paraphrase)"):
        assert heading in markdown
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["evidence_hit@1"]["mean"] == 0.75
    assert set(data["aggregate"]) == set(data["per_query"])
    served = data["per_query"]["hybrid-maxz-0.5+rescore"]
    assert [row["query_id"] for row in served] == ["q1", "q2", "q3", "q4", "q5"]
    assert served[3]["gold_span_ranks"] == [3]
    assert (tmp_path / "out" / "evidence_hit_at_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
