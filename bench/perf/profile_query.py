"""Where a served query's time goes under concurrent load: py-spy on a live ``grounded serve``.

    python -m bench.perf.profile_query --index var/index [--clients 4] [--seconds 12] [--runtime onnx|torch]

Starts the server (cache off, default admission), warms it, then samples it twice with py-spy
(200 Hz, ``--threads --nonblocking``): once on-CPU, once only where a thread holds the GIL
(``--gil``), while ``--clients`` closed-loop clients send the gold questions. Prints the share of
samples per thread and per stage; the GIL run says how much of the wall time the GIL was held
(samples / (rate x seconds)). py-spy is a dev dependency; it needs ptrace (root or
``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common.load import QueryLoad, closed_loop
from bench.common.server import Server

RATE = 200

# First match wins, on the whole stack (outermost first): the stage a sample belongs to.
STAGES = (
    ("model forward", re.compile(r"onnxruntime|InferenceSession\.run|forward \((torch|transformers)")),
    ("tokenizer", re.compile(r"[Tt]okeniz")),
    ("sentence-transformers Python", re.compile(r"sentence_transformers")),
    ("FAISS", re.compile(r"faiss|search_dense")),
    ("BM25", re.compile(r"sparse|bm25s")),
    ("answer", re.compile(r"answer")),
    ("engine, other", re.compile(r"engine|retrieval")),
    ("event loop (HTTP, validation, JSON)", re.compile(r"uvicorn|starlette|fastapi|pydantic|asyncio|h11|httptools")),
)


def stage_of(stack: str) -> str:
    """The stage of one collapsed stack (``frame;frame;...``), "other" when none matches."""
    for name, pattern in STAGES:
        if pattern.search(stack):
            return name
    return "other"


def summarise_raw(lines: list[str]) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """Samples in py-spy's raw output (``thread (tid);frames... count``): total, per thread, per stage."""
    threads: collections.Counter[str] = collections.Counter()
    stages: collections.Counter[str] = collections.Counter()
    total = 0
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        thread = re.sub(r"\s*\(\d+\)", "", stack.split(";", 1)[0]).removeprefix("thread").strip(" :")
        threads[thread] += count
        stages[stage_of(stack)] += count
    return total, threads, stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf.profile_query", description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--runtime", choices=["onnx", "torch"], default="onnx")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    from eval.gold import load_gold

    questions = [item.question for item in load_gold()]
    with Server(args.index, extra_env={"GROUNDED_QUERY_RUNTIME": args.runtime}) as server, \
            tempfile.TemporaryDirectory() as scratch:
        load = QueryLoad(server.host, server.port, questions, seed=1)
        closed_loop(load, clients=args.clients, seconds=2.0)
        for kind, extra in (("on-CPU", []), ("GIL held", ["--gil"])):
            output = Path(scratch) / f"{kind}.txt"
            spy = subprocess.Popen(
                [py_spy, "record", "-d", str(args.seconds), "-r", str(RATE), "-p", str(server.process.pid),
                 "-f", "raw", "--threads", "--nonblocking", "-o", str(output), *extra],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            outcomes, wall = closed_loop(load, clients=args.clients, seconds=args.seconds + 2)
            _, error = spy.communicate()
            if spy.returncode != 0:
                print(f"py-spy failed ({spy.returncode}): {error.strip()[-300:]}", file=sys.stderr)
                return 2
            total, threads, stages = summarise_raw(output.read_text(encoding="utf-8").splitlines())
            answered = sum(outcome.status == 200 for outcome in outcomes) / wall
            print(f"\n{kind}: {total} samples, {args.clients} clients, {answered:.0f} answered/s, "
                  f"questions on {args.runtime}")
            if kind == "GIL held":
                print(f"  GIL held {total / (RATE * args.seconds):.0%} of the wall time")
            for name, count in threads.most_common():
                print(f"  thread {name}: {count / (RATE * args.seconds):.0%} of the wall time")
            for name, count in stages.most_common():
                print(f"  {name}: {count / max(total, 1):.0%} of these samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
