"""``grounded eval`` over named settings: build or reuse each setting's index, ask its gold questions
under every ablation configuration, report the settings side by side and apply the gates."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from eval.compare import MODEL_METRICS, SettingDrop, setting_drop
from eval.errors import EvalError
from eval.gates import failed_setting_gates, parse_setting_gates
from eval.gold import GoldQuestion
from eval.gold_run import GoldMismatchError, run_gold
from eval.records import GOLD_SUMMARY, EvalResult
from eval.report import write_reports
from eval.settings import (
    DOCS,
    SEEDS,
    Setting,
    SettingRun,
    build_setting_index,
    cited_documents,
    corpus_files,
    default_distractor_folder,
    distractor_subset,
    folder_name,
    read_split,
)
from eval.suite_report import write_suite_reports
from grounding import ClaimVerifier, load_verifier, verifier_folder
from index import ChunkingParams, Embedder, chunking_with, load_embedder, load_index
from ranking import PairScorer, load_reader, reader_folder
from service import QueryEngine

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SEED_GOLD = DATA / "gold.jsonl"
NEWS_GOLD = DATA / "gold-news.jsonl"
DOCS_GOLD = DATA / "gold-flask.jsonl"


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The settings to run, in order, and one line per setting left out and why."""

    settings: tuple[Setting, ...]
    skipped: tuple[str, ...]
    base: str
    """The setting without distractors (the drop is measured from it)."""
    distractor_count: int


def plan_settings(args: argparse.Namespace, *, repo_root: Path = REPO_ROOT) -> Plan:
    """The settings the arguments ask for (the seeds, with distractors, docs; or ``--corpus``)."""
    skipped: list[str] = []
    if args.corpus:
        if not args.gold:
            raise EvalError("--corpus needs --gold: the questions written for that corpus")
        base = Setting(name="corpus", corpus=tuple(args.corpus), gold=tuple(args.gold))
    else:
        base = Setting(name=SEEDS, corpus=(repo_root / "data" / "corpus",),
                       gold=tuple(args.gold) or (SEED_GOLD,))
    settings = [base]
    folders = list(args.distractors)
    for folder in folders:
        if not folder.is_dir():
            raise EvalError(f"--distractors {folder} is not a folder")
    if not folders:
        default = default_distractor_folder(repo_root)
        if default.is_dir():
            folders = [default]
        else:
            skipped.append(f"{base.name}+distractors: skipped, the distractor folder {default} is "
                           "absent (pass --distractors DIR or set GROUNDED_DISTRACTORS)")
    distractor_count = 0
    if folders:
        stems = {path.stem for folder in folders for path in corpus_files(folder)}
        extra_gold = (NEWS_GOLD,) if NEWS_GOLD.exists() and cited_documents([NEWS_GOLD]) <= stems \
            else ()
        files = distractor_subset(folders, args.distractor_limit, cited_documents(extra_gold))
        distractor_count = len(files)
        settings.append(Setting(name=f"{base.name}+distractors", corpus=(*base.corpus, *files),
                                gold=(*base.gold, *extra_gold)))
    if not args.corpus:
        docs_corpus = repo_root / "var" / "corpora" / "flask"
        if docs_corpus.is_dir() and DOCS_GOLD.exists():
            settings.append(Setting(name=DOCS, corpus=(docs_corpus,), gold=(DOCS_GOLD,)))
        else:
            skipped.append(f"{DOCS}: skipped, no HTML corpus in {docs_corpus} (run `make "
                           "docs-corpus`)")
    if args.setting:
        known = [setting.name for setting in settings] + [line.split(":")[0] for line in skipped]
        unknown = [name for name in args.setting if name not in known]
        if unknown:
            raise EvalError(f"--setting {', '.join(unknown)}: not a setting of this run; use "
                            f"{', '.join(known)}")
        settings = [setting for setting in settings if setting.name in args.setting]
        skipped = [line for line in skipped if line.split(":")[0] in args.setting]
    return Plan(settings=tuple(settings), skipped=tuple(skipped), base=base.name,
                distractor_count=distractor_count)


def setting_questions(setting: Setting, split: str) -> tuple[tuple[GoldQuestion, ...], int]:
    """The setting's questions in ``split`` (every gold file, in order) and how many were left out."""
    questions: list[GoldQuestion] = []
    left_out = 0
    for path in setting.gold:
        part = read_split(path, split)
        questions += part.questions
        left_out += part.left_out
    if not questions:
        raise EvalError(f"setting {setting.name}: no gold question in the {split!r} split of "
                        f"{', '.join(map(str, setting.gold))}")
    return tuple(questions), left_out


def run_setting(setting: Setting, questions: Sequence[GoldQuestion], index_folder: Path,
                embedder: Embedder, *, configurations: str = "all", reader: PairScorer | None = None,
                verifier: ClaimVerifier | None = None) -> EvalResult:
    """The served engine's ablation configurations on one setting's index, scored (``eval.gold_run``).

    ``configurations`` is ``all`` (every ablation row) or ``modes`` (served, sparse, dense: a third
    of the queries, for the CI gate).
    """
    engine = QueryEngine(load_index(index_folder), embedder, reader=reader, verifier=verifier)
    try:
        return run_gold(engine, questions, configurations=configurations)
    except GoldMismatchError as error:
        listed = "\n  ".join(error.problems[:20])
        raise EvalError(f"setting {setting.name}: the gold set does not match its corpus ({len(error.problems)} "
                        f"problems); fix the gold file or the corpus:\n  {listed}") from error


def run_settings(args: argparse.Namespace) -> int:
    """Entry point of ``grounded eval`` without ``--index``/``--beir``; returns the exit code."""
    split = args.split or "test"
    try:
        plan = plan_settings(args)
        names = [setting.name for setting in plan.settings]
        gates = parse_setting_gates(args.fail_under, GOLD_SUMMARY, names or [plan.base],
                                    skipped=[line.split(":")[0] for line in plan.skipped])
        for line in plan.skipped:
            print(f"grounded eval: {line}", file=sys.stderr)
        params = chunking_params(args)
        reader_path = reader_folder(args.reader)
        reader = load_reader(reader_path) if reader_path is not None else None
        verifier_path = verifier_folder(args.verifier)
        verifier = load_verifier(verifier_path) if verifier_path is not None else None
        runs = run_plan(plan, load_embedder(args.model), args.work, split=split,
                        configurations=args.configurations, params=params, reader=reader, verifier=verifier)
        versus_runs = [] if args.versus_model is None else run_plan(
            plan, load_embedder(args.versus_model), versus_folder(args.work, args.versus_model),
            split=split, configurations=args.configurations, params=params, reader=reader, verifier=verifier)
    except EvalError as error:
        print(f"grounded: error: {error}", file=sys.stderr)
        return 2
    by_name = {run.setting.name: run for run in runs}
    command = settings_command(args)
    model_drops = model_differences(runs, versus_runs)
    if versus_runs:
        versus_out = versus_folder(args.out, args.versus_model)
        for run in versus_runs:
            write_reports(run.result, versus_out / folder_name(run.setting.name), command=command)
        write_suite_reports(versus_runs, _drop({run.setting.name: run for run in versus_runs},
                                               plan.base),
                            versus_out, command=command, skipped=plan.skipped,
                            distractor_count=plan.distractor_count)
    for run in runs:
        write_reports(run.result, args.out / folder_name(run.setting.name), command=command)
    summary = write_suite_reports(runs, _drop(by_name, plan.base), args.out, command=command,
                                  skipped=plan.skipped, distractor_count=plan.distractor_count,
                                  model_drops=model_drops)
    print(summary)
    failures = failed_setting_gates(gates, {name: run.result for name, run in by_name.items()})
    missing = sorted({gate.setting for gate in gates
                      if gate.setting is not None and gate.setting not in by_name})
    for name in missing:
        print(f"grounded eval: gates on {name} not checked: the setting did not run",
              file=sys.stderr)
    for run in runs:
        if run.result.citation_exactness < 1.0:
            failures.insert(0, f"{run.setting.name}: citation exactness "
                               f"{run.result.citation_exactness:.4%} is below 100 %")
    for failure in failures:
        print(f"grounded: eval failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


def chunking_params(args: argparse.Namespace) -> ChunkingParams:
    """The settings' chunking: ingest's defaults, or ``--max-tokens``/``--overlap-tokens``."""
    try:
        return chunking_with(args.max_tokens, args.overlap_tokens)
    except ValueError as error:
        raise EvalError(str(error)) from error


def run_plan(plan: Plan, embedder: Embedder, work: Path, *, split: str,
             configurations: str, params: ChunkingParams | None = None,
             reader: PairScorer | None = None, verifier: ClaimVerifier | None = None) -> list[SettingRun]:
    """Every setting of the plan with one model: its index built or reused in ``work``, scored.

    ``params``: the chunking of every setting's index (None: ingest's defaults); part of the
    cache key, so a different chunking rebuilds the index in the same folder.
    """
    runs = []
    for setting in plan.settings:
        questions, left_out = setting_questions(setting, split)
        started = time.perf_counter()
        index_folder, built = build_setting_index(setting, work, embedder, params=params,
                                                  progress=sys.stderr.isatty())
        print(f"grounded eval: {setting.name}: index {'built' if built else 'reused'} in "
              f"{index_folder}; {len(questions)} {split} questions", file=sys.stderr)
        result = run_setting(setting, questions, index_folder, embedder,
                             configurations=configurations, reader=reader, verifier=verifier)
        seconds = time.perf_counter() - started
        print(f"grounded eval: {setting.name}: done in {seconds:.0f} s (index and "
              f"{len(result.configs)} configurations)", file=sys.stderr)
        runs.append(SettingRun(setting=setting, result=result, split=split,
                               left_out=left_out, built=built, seconds=seconds))
    return runs


def versus_folder(folder: Path, model: str) -> Path:
    """Where ``--versus-model`` keeps its indexes (under ``--work``) or reports (under ``--out``)."""
    return folder / "models" / folder_name(model)


def model_differences(runs: Sequence[SettingRun],
                      versus_runs: Sequence[SettingRun]) -> tuple[SettingDrop, ...]:
    """Per setting, the second model's served metrics minus the first's, paired per question."""
    versus = {run.setting.name: run for run in versus_runs}
    return tuple(
        setting_drop(f"{run.setting.name}: {run.result.model_id}", run.result.default,
                     f"{run.setting.name}: {versus[run.setting.name].result.model_id}",
                     versus[run.setting.name].result.default, metrics=MODEL_METRICS)
        for run in runs if run.setting.name in versus)


def _drop(runs: Mapping[str, SettingRun], base: str) -> SettingDrop | None:
    """The base setting against the same corpus with distractors, when both ran."""
    mixed = f"{base}+distractors"
    if base not in runs or mixed not in runs:
        return None
    return setting_drop(base, runs[base].result.default, mixed, runs[mixed].result.default)


def settings_command(args: argparse.Namespace) -> str:
    """The command line that reproduces a settings run (for the report)."""
    words = ["grounded", "eval"]
    for flag, values in (("--corpus", args.corpus), ("--distractors", args.distractors),
                         ("--gold", args.gold), ("--setting", args.setting)):
        for value in values:
            words += [flag, str(value)]
    if args.distractor_limit is not None:
        words += ["--distractor-limit", str(args.distractor_limit)]
    for flag, value in (("--max-tokens", args.max_tokens), ("--overlap-tokens", args.overlap_tokens)):
        if value is not None:
            words += [flag, str(value)]
    if args.model is not None:
        words += ["--model", str(args.model)]
    if args.versus_model is not None:
        words += ["--versus-model", str(args.versus_model)]
    if args.configurations != "all":
        words += ["--configurations", args.configurations]
    words += ["--split", args.split or "test", "--work", str(args.work), "--out", str(args.out)]
    for spec in args.fail_under:
        words += ["--fail-under", spec]
    return shlex.join(words)

