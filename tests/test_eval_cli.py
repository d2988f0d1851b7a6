"""``grounded eval`` end to end on tiny corpora: exit codes, gates, reports, and the BEIR path
against hand-computed metrics."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

import eval.cli
from eval.cli import run_eval, safe_file_stem
from eval.records import QueryOutcome
from eval.runner import run_queries
from grounded.cli import build_parser
from index.build import ingest
from ingest.embedding import HashingEmbedder
from tests.support.eval_corpus import CORPUS, write_texts
from tests.support.paths import FIXTURES

BEIR_TINY = FIXTURES / "beir_tiny"

GOLD = [
    ("q1", "Why do volcanoes erupt with magma?", "direct",
     [("alpha", "Volcanoes erupt when magma rises through the crust.")]),
    ("q2", "How do honeybees communicate?", "direct",
     [("beta", "Honeybees communicate with a waggle dance.")]),
    ("q3", "Which ships need rotating lamps at night?", "direct",
     [("gamma", "Lighthouses guide ships at night with rotating lamps.")]),
    ("q4", "What is the boiling point of mercury?", "unanswerable", []),
]


def _gold_line(query_id: str, question: str, kind: str, spans: list[tuple[str, str]]) -> str:
    evidence = [{"doc_id": doc_id, "start": CORPUS[doc_id].index(text),
                 "end": CORPUS[doc_id].index(text) + len(text), "text": text}
                for doc_id, text in spans]
    return json.dumps({"query_id": query_id, "question": question, "kind": kind,
                       "evidence": evidence})


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hashing-embedder index of the three documents and a gold file that matches it."""
    root = tmp_path_factory.mktemp("eval-cli")
    ingest([write_texts(root / "corpus")], root / "index", HashingEmbedder())
    (root / "gold.jsonl").write_text("\n".join(_gold_line(*row) for row in GOLD) + "\n",
                                     encoding="utf-8")
    return root


def _eval(workspace: Path, out: Path, *extra: str) -> int:
    args = build_parser().parse_args(["eval", "--index", str(workspace / "index"), "--gold",
                                      str(workspace / "gold.jsonl"), "--out", str(out), *extra])
    return run_eval(args)


def test_writes_reports_and_passes_gates_it_meets(workspace: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # Every answerable question's evidence is the top chunk, so hit@1 is 1.0.
    code = _eval(workspace, tmp_path, "--fail-under", "evidence_hit@1=1.0",
                 "--fail-under", "citation_exactness=1", "--fail-under", "ndcg@10=0.99")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "evidence_hit@1" in captured.out and "abstention threshold" in captured.out
    assert "eval:" in captured.err  # the progress bar
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "evidence_hit_at_k.png", "report.json", "report.md"]
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["summary"]["evidence_hit@1"]["mean"] == 1.0
    assert data["summary"]["citation_exactness"]["mean"] == 1.0
    assert "--fail-under evidence_hit@1=1.0" in data["command"]


def test_a_gate_above_the_value_fails_with_exit_1(workspace: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # abstention_accuracy is at most 1, so a gate of 1.5 must fail whatever the engine does.
    code = _eval(workspace, tmp_path, "--fail-under", "abstention_accuracy=1.5")
    captured = capsys.readouterr()
    assert code == 1
    assert "abstention_accuracy = " in captured.err
    assert "is below the gate 1.5" in captured.err


@pytest.mark.parametrize(("spec", "message"), [
    ("recall@10=0.5", "'recall@10' is not a metric of this run"),
    ("false_abstention_rate=0.1", "is lower-is-better"),
    ("nDCG@10", "is not a metric of this run"),  # no "=VALUE"
    ("nDCG@10=high", "'high' is not a number"),
])
def test_bad_gates_exit_2_listing_valid_names(workspace: Path, tmp_path: Path, spec: str,
                                              message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = _eval(workspace, tmp_path, "--fail-under", spec)
    captured = capsys.readouterr()
    assert code == 2
    assert message in captured.err
    if "number" not in message:
        assert "nDCG@10, R@5, R@10, R@100, RR@10, evidence_hit@1" in captured.err
    assert not (tmp_path / "report.md").exists()  # refused before running anything


def test_missing_index_says_to_ingest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["eval", "--index", str(tmp_path / "none"),
                                      "--out", str(tmp_path / "out")])
    assert run_eval(args) == 2
    assert f"run `grounded ingest --index {tmp_path / 'none'}` first" in capsys.readouterr().err


def test_gold_set_that_does_not_match_the_index_exits_2(workspace: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    line = json.loads(_gold_line(*GOLD[0]))
    line["evidence"][0]["start"] += 1
    line["evidence"][0]["end"] += 1
    gold = tmp_path / "shifted.jsonl"
    gold.write_text(json.dumps(line) + "\n", encoding="utf-8")
    args = build_parser().parse_args(["eval", "--index", str(workspace / "index"), "--gold",
                                      str(gold), "--out", str(tmp_path / "out")])
    assert run_eval(args) == 2
    err = capsys.readouterr().err
    assert "the gold set does not match the index" in err
    assert "q1 evidence[0]: text mismatch in 'alpha'" in err


def test_a_passage_that_is_not_exact_fails_the_run(workspace: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def forging_run_queries(*args: Any, **kwargs: Any) -> list[QueryOutcome]:
        outcomes = run_queries(*args, **kwargs)
        outcomes[0] = replace(outcomes[0], citation_problems=("passage 1 (x): text differs",))
        return outcomes

    monkeypatch.setattr(eval.cli, "run_queries", forging_run_queries)
    code = _eval(workspace, tmp_path)
    assert code == 1
    assert "citation exactness" in capsys.readouterr().err
    assert "passage 1 (x): text differs" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_unusual_beir_ids_get_reversible_file_names() -> None:
    for doc_id in ("d1", "a/b", ".hidden", "50%", "ü-ß", "x y", "CON"):
        stem = safe_file_stem(doc_id)
        assert "/" not in stem and not stem.startswith(".")
        assert unquote(stem) == doc_id
    long_stem = safe_file_stem("z" * 500)
    assert len(long_stem) <= 200
    assert long_stem != safe_file_stem("z" * 499)


def _ndcg(gains_in_rank_order: list[int], ideal: list[int]) -> float:
    """trec_eval nDCG with linear gains (only used to double-check the literals below)."""
    def dcg(gains: list[int]) -> float:
        return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1))
    return dcg(gains_in_rank_order) / dcg(ideal)


def test_beir_fixture_metrics_equal_hand_computed_values(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["eval", "--beir", str(BEIR_TINY), "--model", "hashing:384",
                                      "--out", str(tmp_path)])
    assert run_eval(args) == 0
    assert "grounded eval (beir): 3 questions" in capsys.readouterr().out
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    sparse = {row["query_id"]: row for row in data["per_query"]["sparse"]}
    dense = {row["query_id"]: row for row in data["per_query"]["dense"]}
    # The deterministic rankings the hand computation below starts from. BM25 returns only the
    # documents sharing a stemmed term with the query ("rise" matches d1's "rise" for q2); the
    # hashing embedder scores every document, so dense lists all six.
    assert [sparse[q]["ranking"] for q in ("q1", "q2", "q3")] == [
        ["d1", "d2"], ["d3", "d1", "d4"], ["d5", "d6"]]
    assert dense["q1"]["ranking"][:4] == ["d1", "d3", "d4", "d2"]
    # qrels: q1 d1=2 d2=1; q2 d3=2 d4=1; q3 d5=1 d6=1 d2=0.
    # sparse q1: gains 2,1 = ideal -> nDCG 1.  q3: gains 1,1 = ideal -> 1.
    # sparse q2: gains 2,0,1 -> DCG = 2/log2(2) + 1/log2(4) = 2 + 0.5 = 2.5;
    #            ideal 2,1 -> IDCG = 2 + 1/log2(3) = 2.63093; nDCG = 2.5 / 2.63093 = 0.95023.
    assert sparse["q1"]["measures"]["nDCG@10"] == pytest.approx(1.0)
    assert sparse["q2"]["measures"]["nDCG@10"] == pytest.approx(0.95023, abs=1e-5)
    assert sparse["q2"]["measures"]["nDCG@10"] == pytest.approx(_ndcg([2, 0, 1], [2, 1]), abs=1e-6)
    assert sparse["q3"]["measures"]["nDCG@10"] == pytest.approx(1.0)
    # Mean over the three queries: (1 + 0.95023 + 1) / 3 = 0.98341.
    aggregate = data["aggregate"]["sparse"]
    assert aggregate["nDCG@10"]["mean"] == pytest.approx(0.98341, abs=1e-5)
    # Every relevant document is retrieved at rank <= 3, and each query's first is relevant.
    for measure in ("R@5", "R@10", "R@100", "RR@10"):
        assert aggregate[measure]["mean"] == 1.0
    # dense q1: d2 (grade 1) at rank 4 behind two non-relevant documents:
    #   DCG = 2 + 1/log2(5) = 2.43068; nDCG = 2.43068 / 2.63093 = 0.92389.
    assert dense["q1"]["measures"]["nDCG@10"] == pytest.approx(0.92389, abs=1e-5)
    # d2 is judged 0 for q3: ranked 3rd by dense, it is not relevant, so q3 still scores 1.
    assert dense["q3"]["ranking"][:3] == ["d5", "d6", "d2"]
    assert dense["q3"]["measures"]["nDCG@10"] == pytest.approx(1.0)
    assert data["summary"]["citation_exactness"]["mean"] == 1.0
    assert not (tmp_path / "evidence_hit_at_k.png").exists()  # no gold evidence in BEIR mode


def test_beir_mode_refuses_evidence_gates(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["eval", "--beir", str(BEIR_TINY), "--model", "hashing:384",
                                      "--out", str(tmp_path), "--fail-under",
                                      "evidence_hit@5=0.5"])
    assert run_eval(args) == 2
    err = capsys.readouterr().err
    assert "'evidence_hit@5' is not a metric of this run" in err
    assert "METRIC one of nDCG@10, R@5, R@10, R@100, RR@10, citation_exactness" in err


@pytest.mark.slow
def test_seed_benchmark_with_the_real_model(real_embedder: Any, seed_corpus: Path,
                                            tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """``grounded eval`` on the seed corpus and shipped gold set: exact citations, sane metrics."""
    ingest([seed_corpus], tmp_path / "index", real_embedder)
    args = build_parser().parse_args(["eval", "--index", str(tmp_path / "index"),
                                      "--out", str(tmp_path / "report"),
                                      "--fail-under", "citation_exactness=1.0"])
    assert run_eval(args) == 0, capsys.readouterr().err
    data = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    summary = {name: value["mean"] for name, value in data["summary"].items()}
    assert summary["citation_exactness"] == 1.0
    assert data["citation_exactness_all_configs"] == 1.0
    assert summary["answer_grounding"] == 1.0
    # Loose floors: far below the measured values (docs/evaluation.md), far above chance.
    assert 0.4 <= summary["nDCG@10"] <= 1.0
    assert 0.6 <= summary["evidence_hit@10"] <= 1.0
    assert summary["R@5"] <= summary["R@10"] <= summary["R@100"]
    assert summary["evidence_hit@1"] <= summary["evidence_hit@5"] <= summary["evidence_hit@10"]
    assert 0.0 <= summary["false_abstention_rate"] <= 1.0
    assert len(data["configs"]) >= 10
    assert (tmp_path / "report" / "evidence_hit_at_k.png").stat().st_size > 10_000
