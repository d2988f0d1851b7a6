"""``grounded eval``: run the benchmark on an index (gold questions) or on a BEIR dataset, write the
report, print the summary and apply the ``--fail-under`` gates.

Exit codes: 0 passed; 1 a passage or citation is not exact, or a gate failed; 2 the input is
unusable (no index, gold set that does not match the index, malformed BEIR folder, unknown gate).
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from tqdm import tqdm  # type: ignore[import-untyped]

from eval.beir import BeirDoc, read_beir
from eval.errors import EvalError
from eval.gates import Gate, failed_gates, parse_gates  # noqa: F401  (Gate: re-exported)
from eval.gold_run import GoldMismatchError, run_gold
from eval.records import (
    BEIR_SUMMARY,
    GOLD_SUMMARY,
    EvalResult,
    NamedConfig,
    PlainQuestion,
    QueryOutcome,
    Question,
)
from eval.report import render_summary, write_reports
from eval.runner import ablation_configs, run_queries
from eval.scoring import score_beir
from eval.settings import index_gold
from eval.suite import chunking_params
from grounding import verifier_folder
from index import current_version, ingest, load_embedder
from ranking import reader_folder
from service import EngineConfig, QueryEngine, load_engine

# Longest file name written for a BEIR document; most file systems allow 255 bytes.
_MAX_NAME_BYTES = 200


def run_eval(args: argparse.Namespace) -> int:
    """Entry point of ``grounded eval`` (arguments from ``grounded.cli``); returns the exit code."""
    if args.beir is None and args.index is None:
        from eval.suite import run_settings

        return run_settings(args)
    if args.versus_model is not None:
        print("grounded: error: --versus-model compares models on the settings; drop --index/--beir "
              "or run `grounded eval --index` once per model", file=sys.stderr)
        return 2
    if args.index is not None and (args.max_tokens is not None or args.overlap_tokens is not None):
        print("grounded: error: --max-tokens/--overlap-tokens chunk the corpora eval ingests; an "
              "existing --index keeps its own chunking (re-ingest it with `grounded ingest "
              "--max-tokens`)", file=sys.stderr)
        return 2
    try:
        gates = parse_gates(args.fail_under, BEIR_SUMMARY if args.beir else GOLD_SUMMARY)
        result = _run_beir(args) if args.beir is not None else _run_gold(args)
    except EvalError as error:
        print(f"grounded: error: {error}", file=sys.stderr)
        return 2
    if result is None:
        return 2
    command = _command(args)
    written = write_reports(result, args.out, command=command)
    print(render_summary(result, written))
    failures = failed_gates(gates, result)
    if result.citation_exactness < 1.0:
        problems = sum(len(record.outcome.citation_problems)
                       for config in result.configs for record in config.records)
        failures.insert(0, f"citation exactness {result.citation_exactness:.4%} is below 100 %: "
                           f"{problems} passages or citations differ from the document text "
                           f"(listed in {args.out / 'report.md'})")
    for failure in failures:
        print(f"grounded: eval failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _run_gold(args: argparse.Namespace) -> EvalResult | None:
    """Seed mode: the gold questions against the index in ``--index``."""
    if current_version(args.index) is None:
        print(f"grounded: error: no index in {args.index}: run `grounded ingest --index "
              f"{args.index}` first", file=sys.stderr)
        return None
    questions = index_gold(args.gold, args.split or "all")
    config = EngineConfig(reader=reader_folder(args.reader), verifier=verifier_folder(args.verifier))
    engine = load_engine(args.index, model_path=args.model, config=config)
    try:
        return run_gold(engine, questions, run=_run_with_progress)
    except GoldMismatchError as error:
        print(f"grounded: error: the gold set does not match the index in {args.index} "
              f"({len(error.problems)} problems); re-ingest the corpus the gold set was written for or "
              "fix the gold file:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def _run_beir(args: argparse.Namespace) -> EvalResult:
    """BEIR mode: a temporary index of the dataset's corpus built by the ingest pipeline."""
    dataset = read_beir(args.beir)
    embedder = load_embedder(args.model)
    with tempfile.TemporaryDirectory(prefix="grounded-beir-") as temporary:
        corpus_folder = Path(temporary) / "corpus"
        original_ids = write_beir_corpus(dataset.corpus, corpus_folder)
        index_folder = Path(temporary) / "index"
        ingest([corpus_folder], index_folder, embedder, params=chunking_params(args),
               progress=sys.stderr.isatty())
        engine = load_engine(index_folder, encoder=embedder)
        questions = [PlainQuestion(query_id=query_id, question=text)
                     for query_id, text in dataset.queries.items()]
        configs = ablation_configs(engine.config.ranking.retrieval)
        outcomes = _run_with_progress(engine, questions, configs)
        return score_beir(outcomes, dataset.qrels, configs, original_ids=original_ids,
                          threshold=engine.config.ranking.answer.min_score,
                          index_version=engine.index.index_version,
                          model_id=engine.index.manifest.model_id)


def _run_with_progress(engine: QueryEngine, questions: Sequence[Question],
                       configs: Sequence[NamedConfig]) -> list[QueryOutcome]:
    """``run_queries`` with a tqdm bar on stderr."""
    # Off a terminal (CI logs) a redraw every few seconds is enough.
    interval = 0.1 if sys.stderr.isatty() else 5.0
    with tqdm(total=len(configs) * len(questions), desc="eval", unit="query", file=sys.stderr,
              dynamic_ncols=True, mininterval=interval) as bar:
        return run_queries(engine, questions, configs, on_query=bar.update)


def safe_file_stem(doc_id: str) -> str:
    """A file name stem for a BEIR doc id: percent-encoded, so ``unquote`` gives the id back.

    Only letters, digits, ``_``, ``-``, ``.`` and ``~`` stay as they are; a leading dot is encoded
    too (the reader skips hidden files). Ids too long for a file name get a truncated stem plus a
    hash, and are mapped back through the dictionary ``write_beir_corpus`` returns.
    """
    stem = quote(doc_id, safe="")
    if stem.startswith("."):
        stem = "%2E" + stem[1:]
    if len(stem.encode("ascii")) > _MAX_NAME_BYTES:
        digest = hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:16]
        stem = f"{stem[: _MAX_NAME_BYTES - 20]}~{digest}"
    return stem


def write_beir_corpus(corpus: Sequence[BeirDoc], folder: Path) -> dict[str, str]:
    """Write each document as ``<safe id>.txt`` (title, blank line, text; UTF-8).

    Returns ``{index doc_id: original doc id}``. Raises ``EvalError`` if two ids map to one file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    original_ids: dict[str, str] = {}
    for document in corpus:
        stem = safe_file_stem(document.doc_id)
        if stem in original_ids:
            raise EvalError(f"BEIR ids {original_ids[stem]!r} and {document.doc_id!r} map to the "
                            f"same file name {stem!r}")
        original_ids[stem] = document.doc_id
        text = (f"{document.title}\n\n{document.text}" if document.title.strip()
                else document.text)
        # newline="" writes the text byte for byte, so offsets match what the reader decodes.
        with (folder / f"{stem}.txt").open("w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return original_ids


def _command(args: argparse.Namespace) -> str:
    """The command line that reproduces this run (for the report)."""
    words = ["grounded", "eval"]
    if args.beir is not None:
        words += ["--beir", str(args.beir)]
    else:
        words += ["--index", str(args.index)]
    for gold in args.gold:
        words += ["--gold", str(gold)]
    if args.split is not None:
        words += ["--split", args.split]
    if args.model is not None:
        words += ["--model", str(args.model)]
    words += ["--out", str(args.out)]
    for spec in args.fail_under:
        words += ["--fail-under", spec]
    return shlex.join(words)
