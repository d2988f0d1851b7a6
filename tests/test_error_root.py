"""One exception root: every error grounded raises on purpose is a ``GroundedError``, and the CLI
turns any of them into one line on stderr and exit code 2 in one place."""

from __future__ import annotations

import ast
import builtins

import pytest

import grounded.cli as cli
from eval.errors import EvalError, GoldSetError
from grounding.errors import CitationError, GroundingError
from index.errors import IndexFolderError, ShardUnavailableError
from index.query_encoder import OnnxUnavailableError
from ingest.errors import CorpusError, GroundedError, IngestError
from ranking.errors import RankingError, ReaderModelError
from service.errors import ReloadFailedError, ServiceError
from service.llm import ModelCallError
from tests.support.paths import PRODUCT, REPO

BUILTIN_ERRORS = frozenset(name for name, value in vars(builtins).items()
                           if isinstance(value, type) and issubclass(value, BaseException))


def test_every_product_exception_class_derives_from_a_product_error() -> None:
    """A class whose bases are all builtin exceptions is a second root; only GroundedError may be one."""
    roots = []
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef) and node.bases and all(
                        isinstance(base, ast.Name) and base.id in BUILTIN_ERRORS for base in node.bases):
                    roots.append(f"{path.relative_to(REPO)} {node.name}")
    assert roots == ["ingest/errors.py GroundedError"]


@pytest.mark.parametrize("error", [IngestError, IndexFolderError, RankingError, GroundingError, ServiceError,
                                   EvalError, ModelCallError, OnnxUnavailableError])
def test_each_package_root_is_a_grounded_error(error: type[Exception]) -> None:
    assert issubclass(error, GroundedError)


def test_grounding_errors_stay_value_errors() -> None:
    assert issubclass(CitationError, ValueError)


@pytest.mark.parametrize("error", [
    CorpusError("corpus path x does not exist"), ShardUnavailableError("shard 2 did not answer", shard=2),
    ReaderModelError("reader folder y is incomplete"), CitationError("unknown document d"),
    ReloadFailedError("the newest version did not load"), GoldSetError("gold.jsonl:3: not valid JSON"),
])
def test_the_cli_turns_any_grounded_error_into_one_line_and_exit_code_2(
        error: GroundedError, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def fail(args: object) -> int:
        raise error

    monkeypatch.setattr(cli, "_run_ask", fail)
    assert cli.main(["ask", "a question"]) == 2
    assert capsys.readouterr().err == f"grounded: error: {error}\n"


def test_the_cli_lets_a_bug_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(args: object) -> int:
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "_run_ask", fail)
    with pytest.raises(KeyError):
        cli.main(["ask", "a question"])
