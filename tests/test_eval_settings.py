"""``grounded eval`` settings: the index cache, split filtering, distractor subsets, setting-qualified
gates and the side-by-side report with the distractor drop (hashing embedder, tiny corpora)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.cli import run_eval
from eval.errors import EvalError
from eval.gates import parse_setting_gates
from eval.records import GOLD_SUMMARY
from eval.settings import Setting, build_setting_index, distractor_subset, read_split
from eval.suite import run_settings
from grounded.cli import build_parser
from ingest.embedding import HashingEmbedder
from tests.support.eval_corpus import CORPUS, write_texts

DISTRACTORS = {
    f"news_{number:03d}": f"Report {number}: the football club signed a striker and the market "
                          f"rose by {number} points on Tuesday.\n"
    for number in range(12)
}
QUESTIONS = [
    ("q1", "Why do volcanoes erupt with magma?", "direct", "alpha",
     "Volcanoes erupt when magma rises through the crust.", "test"),
    ("q2", "How do honeybees communicate?", "direct", "beta",
     "Honeybees communicate with a waggle dance.", "tune"),
    ("q3", "Which ships need rotating lamps at night?", "direct", "gamma",
     "Lighthouses guide ships at night with rotating lamps.", "test"),
    ("q4", "What is the boiling point of mercury?", "unanswerable", "", "", "test"),
]


def _gold_file(path: Path, *, with_splits: bool = True) -> Path:
    lines = []
    for query_id, question, kind, doc_id, text, split in QUESTIONS:
        evidence = [] if not text else [{"doc_id": doc_id, "start": CORPUS[doc_id].index(text),
                                         "end": CORPUS[doc_id].index(text) + len(text),
                                         "text": text}]
        record: dict[str, object] = {"query_id": query_id, "question": question, "kind": kind,
                                     "evidence": evidence}
        if with_splits:
            record["split"] = split
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A three-document corpus, twelve distractors and a gold file with tune/test splits."""
    write_texts(tmp_path / "corpus")
    write_texts(tmp_path / "distractors", DISTRACTORS)
    _gold_file(tmp_path / "gold.jsonl")
    return tmp_path


def test_a_setting_is_built_once_and_rebuilt_when_a_file_changes(workspace: Path) -> None:
    setting = Setting(name="corpus", corpus=(workspace / "corpus",),
                      gold=(workspace / "gold.jsonl",))
    embedder = HashingEmbedder()
    first, built = build_setting_index(setting, workspace / "work", embedder)
    assert built
    again, built = build_setting_index(setting, workspace / "work", embedder)
    assert (again, built) == (first, False)
    (workspace / "corpus" / "alpha.txt").write_text(CORPUS["alpha"] + "More lava.\n",
                                                    encoding="utf-8")
    _, built = build_setting_index(setting, workspace / "work", embedder)
    assert built
    _, built = build_setting_index(setting, workspace / "work", HashingEmbedder(128))
    assert built, "another model must not reuse the index"


def test_split_filtering_keeps_one_part_and_counts_the_rest(workspace: Path) -> None:
    test = read_split(workspace / "gold.jsonl", "test")
    assert [question.query_id for question in test.questions] == ["q1", "q3", "q4"]
    assert test.left_out == 1
    assert [q.query_id for q in read_split(workspace / "gold.jsonl", "tune").questions] == ["q2"]
    assert len(read_split(workspace / "gold.jsonl", "all").questions) == 4


def test_a_split_of_a_file_without_splits_is_an_error(tmp_path: Path) -> None:
    plain = _gold_file(tmp_path / "plain.jsonl", with_splits=False)
    assert len(read_split(plain, "all").questions) == 4
    with pytest.raises(EvalError, match="--split all"):
        read_split(plain, "test")


def test_distractor_limit_is_deterministic_and_keeps_cited_files(workspace: Path) -> None:
    folder = workspace / "distractors"
    subset = distractor_subset([folder], 5, required={"news_011"})
    assert len(subset) == 5
    assert folder / "news_011.txt" in subset
    assert subset == distractor_subset([folder], 5, required={"news_011"})
    assert subset == tuple(sorted(subset))
    # Not simply the first files in name order: the hash order mixes every section.
    assert subset != tuple(sorted(folder.glob("*.txt")))[:5]
    assert len(distractor_subset([folder], None)) == len(DISTRACTORS)
    assert len(distractor_subset([folder], 100)) == len(DISTRACTORS)


def test_gates_name_a_setting_or_default_to_the_first() -> None:
    settings = ["seeds", "seeds+distractors"]
    gates = parse_setting_gates(["nDCG@10=0.5", "seeds+distractors:evidence_hit@5=0.8"],
                                GOLD_SUMMARY, settings)
    assert [(gate.setting, gate.metric, gate.minimum) for gate in gates] == [
        ("seeds", "nDCG@10", 0.5), ("seeds+distractors", "evidence_hit@5", 0.8)]
    with pytest.raises(EvalError, match="setting 'docs' is not run"):
        parse_setting_gates(["docs:nDCG@10=0.5"], GOLD_SUMMARY, settings)
    with pytest.raises(EvalError, match="not a metric"):
        parse_setting_gates(["seeds:nope=0.5"], GOLD_SUMMARY, settings)


def _run(workspace: Path, out: Path, *extra: str) -> int:
    args = build_parser().parse_args([
        "eval", "--corpus", str(workspace / "corpus"), "--distractors",
        str(workspace / "distractors"), "--distractor-limit", "6", "--gold",
        str(workspace / "gold.jsonl"), "--model", "hashing:256", "--work", str(workspace / "work"),
        "--out", str(out), *extra])
    return run_settings(args)


def test_report_holds_both_settings_and_the_drop_with_intervals(workspace: Path) -> None:
    assert _run(workspace, workspace / "out") == 0
    data = json.loads((workspace / "out" / "report.json").read_text(encoding="utf-8"))
    assert [setting["name"] for setting in data["settings"]] == ["corpus", "corpus+distractors"]
    assert data["split"] == "test"
    assert data["settings"][0]["questions"] == 3
    assert data["settings"][1]["documents"] == 3 + 6
    assert {"sparse", "dense"} <= set(data["settings"][0]["configs"])
    drop = data["drop"]
    assert (drop["before"], drop["after"], drop["questions"]) == ("corpus", "corpus+distractors", 3)
    by_metric = {item["metric"]: item for item in drop["metrics"]}
    assert by_metric["evidence_hit@5"]["low"] <= by_metric["evidence_hit@5"]["difference"] \
        <= by_metric["evidence_hit@5"]["high"]
    markdown = (workspace / "out" / "report.md").read_text(encoding="utf-8")
    assert "## Drop from corpus to corpus+distractors" in markdown
    assert "difference [95 % CI]" in markdown
    assert (workspace / "out" / "corpus+distractors" / "report.json").exists()
    # A second run reuses both indexes and writes byte-identical reports.
    assert _run(workspace, workspace / "again") == 0
    for name in ("report.md", "report.json"):
        assert (workspace / "again" / name).read_text(encoding="utf-8").replace(
            "again", "out") == (workspace / "out" / name).read_text(encoding="utf-8")


def test_setting_gates_fail_the_run_with_the_setting_named(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(workspace, workspace / "out", "--fail-under",
                "corpus+distractors:abstention_accuracy=1.01") == 1
    assert "corpus+distractors: abstention_accuracy" in capsys.readouterr().err
    assert _run(workspace, workspace / "out", "--fail-under", "nope:nDCG@10=0.1") == 2


def test_modes_keep_the_served_sparse_and_dense_rows(workspace: Path) -> None:
    assert _run(workspace, workspace / "out", "--configurations", "modes") == 0
    data = json.loads((workspace / "out" / "report.json").read_text(encoding="utf-8"))
    configs = data["settings"][0]["configs"]
    assert len(configs) == 3
    assert {"sparse", "dense", data["settings"][0]["default_config"]} == set(configs)


def args_list(workspace: Path) -> list[str]:
    """A ``--corpus`` run without ``--distractors`` (the default folder decides)."""
    return ["eval", "--corpus", str(workspace / "corpus"), "--gold", str(workspace / "gold.jsonl"),
            "--model", "hashing:256", "--work", str(workspace / "work"),
            "--out", str(workspace / "out")]


def test_an_absent_default_distractor_folder_is_skipped_aloud(
        workspace: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GROUNDED_DISTRACTORS", str(workspace / "absent"))
    args = build_parser().parse_args(args_list(workspace))
    assert run_settings(args) == 0
    assert "corpus+distractors: skipped" in capsys.readouterr().err
    gated = build_parser().parse_args([*args_list(workspace), "--fail-under",
                                       "corpus+distractors:nDCG@10=0.99"])
    assert run_settings(gated) == 0
    assert "gates on corpus+distractors not checked" in capsys.readouterr().err


def test_versus_model_runs_every_setting_again_and_reports_the_paired_difference(
        workspace: Path) -> None:
    out = workspace / "out"
    assert _run(workspace, out, "--versus-model", "hashing:128") == 0
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    models = data["models"]
    assert [(item["before"], item["after"]) for item in models] == [
        ("corpus: hashing:256", "corpus: hashing:128"),
        ("corpus+distractors: hashing:256", "corpus+distractors: hashing:128")]
    by_metric = {item["metric"]: item for item in models[0]["metrics"]}
    assert {"evidence_hit@5", "RR@10", "nDCG@10", "false_abstention_rate",
            "abstention_rate"} <= set(by_metric)
    assert by_metric["abstention_rate"]["count"] == 1  # the one unanswerable test question
    for item in models[0]["metrics"]:
        assert item["low"] <= item["difference"] <= item["high"]
        assert item["difference"] == pytest.approx(item["after"] - item["before"])
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Models on corpus: hashing:128 against hashing:256" in markdown
    # The second model has its own indexes and full reports; the first model's are where they were.
    versus = json.loads((out / "models" / "hashing_128" / "report.json").read_text(encoding="utf-8"))
    assert versus["model_id"] == "hashing:128"
    assert (out / "models" / "hashing_128" / "corpus" / "report.json").exists()
    assert (workspace / "work" / "models" / "hashing_128" / "corpus" / "index").is_dir()
    assert data["model_id"] == "hashing:256"


def test_a_run_without_versus_model_has_no_models_section(workspace: Path) -> None:
    assert _run(workspace, workspace / "out") == 0
    assert "models" not in json.loads((workspace / "out" / "report.json").read_text(encoding="utf-8"))


def test_versus_model_is_refused_with_an_index(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["eval", "--index", str(tmp_path), "--versus-model", "mpnet"])
    assert run_eval(args) == 2
    assert "--versus-model compares models on the settings" in capsys.readouterr().err


def _served_chunking(work: Path) -> list[dict[str, object]]:
    """The chunking of every setting's current index under ``work``."""
    found = []
    for index in sorted(work.glob("*/index")):
        version = (index / "CURRENT").read_text(encoding="utf-8").strip()
        manifest = json.loads((index / "versions" / version / "manifest.json").read_text(encoding="utf-8"))
        found.append(manifest["chunking"])
    return found


def test_max_tokens_chunks_every_setting_and_rebuilds_the_cached_index(workspace: Path) -> None:
    assert _run(workspace, workspace / "out", "--configurations", "modes") == 0
    served = _served_chunking(workspace / "work")
    assert len(served) == 2 and {chunking["max_tokens"] for chunking in served} == {180}
    assert _run(workspace, workspace / "small", "--configurations", "modes",
                "--max-tokens", "24", "--overlap-tokens", "6") == 0
    served = _served_chunking(workspace / "work")
    assert len(served) == 2
    assert {(chunking["max_tokens"], chunking["overlap_tokens"]) for chunking in served} == {(24, 6)}
    report = (workspace / "small" / "report.md").read_text(encoding="utf-8")
    assert "--max-tokens 24 --overlap-tokens 6" in report


def test_max_tokens_is_checked_and_refused_with_an_index(
        workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(workspace, workspace / "out", "--max-tokens", "100", "--overlap-tokens", "100") == 2
    assert "--overlap-tokens 100" in capsys.readouterr().err
    args = build_parser().parse_args(["eval", "--index", str(tmp_path), "--max-tokens", "100"])
    assert run_eval(args) == 2
    assert "an existing --index keeps its own chunking" in capsys.readouterr().err
