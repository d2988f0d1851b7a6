"""The BEIR reader on the tiny fixture and on broken copies of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from eval.beir import BeirDoc, read_beir
from eval.errors import BeirFormatError
from tests.support.paths import FIXTURES

FIXTURE = FIXTURES / "beir_tiny"


@pytest.fixture
def beir_copy(tmp_path: Path) -> Path:
    """A private copy of the fixture that a test may break."""
    folder = tmp_path / "beir"
    shutil.copytree(FIXTURE, folder)
    return folder


def test_reads_the_fixture() -> None:
    dataset = read_beir(FIXTURE)
    assert len(dataset.corpus) == 6
    assert dataset.corpus[0] == BeirDoc(
        doc_id="d1",
        title="Tidal power",
        text="Tidal turbines turn the rise and fall of the sea into electricity.",
    )
    assert dataset.corpus[4].title == ""
    # q4 is judged only in the dev split, so the test split leaves it out.
    assert dataset.queries == {
        "q1": "how is electricity made from the sea",
        "q2": "why does bread rise",
        "q3": "how are valleys formed",
    }
    assert dataset.qrels["q1"] == {"d1": 2, "d2": 1}
    assert dataset.qrels["q3"] == {"d5": 1, "d6": 1, "d2": 0}


def test_other_split() -> None:
    dataset = read_beir(FIXTURE, split="dev")
    assert dataset.queries == {"q4": "a query judged only in the dev split"}
    assert dataset.qrels == {"q4": {"d1": 1}}


@pytest.mark.parametrize("missing", ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"])
def test_missing_file_is_named(beir_copy: Path, missing: str) -> None:
    (beir_copy / missing).unlink()
    with pytest.raises(BeirFormatError, match=missing.rsplit("/", maxsplit=1)[-1]):
        read_beir(beir_copy)


def test_missing_split_is_named() -> None:
    with pytest.raises(BeirFormatError, match=r"train\.tsv"):
        read_beir(FIXTURE, split="train")


def _replace_line(path: Path, line_number: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line_number - 1] = text
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "line_number", "text", "message"),
    [
        ("corpus.jsonl", 2, '{"_id": "d2", "text": ', r"corpus\.jsonl:2: not valid JSON"),
        ("corpus.jsonl", 3, '["d3", "text"]', r"corpus\.jsonl:3: .*JSON object"),
        ("corpus.jsonl", 4, '{"_id": "d4", "title": "no text"}', r"corpus\.jsonl:4: 'text'"),
        ("corpus.jsonl", 5, '{"_id": 5, "text": "numeric id"}', r"corpus\.jsonl:5: '_id'"),
        ("corpus.jsonl", 6, '{"_id": "d1", "text": "again"}', r"corpus\.jsonl:6: .*twice"),
        ("queries.jsonl", 2, '{"_id": "q1", "text": "dup"}', r"queries\.jsonl:2: .*twice"),
        ("qrels/test.tsv", 1, "qid\tdocid\trel", r"test\.tsv:1: header"),
        ("qrels/test.tsv", 3, "q1\td2", r"test\.tsv:3: expected 3"),
        ("qrels/test.tsv", 4, "q2\td3\thigh", r"test\.tsv:4: score 'high'"),
        ("qrels/test.tsv", 5, "q9\td4\t1", r"test\.tsv:5: query-id 'q9'"),
    ],
)
def test_bad_line_is_named(
    beir_copy: Path, file: str, line_number: int, text: str, message: str
) -> None:
    _replace_line(beir_copy / file, line_number, text)
    with pytest.raises(BeirFormatError, match=message):
        read_beir(beir_copy)


def test_empty_qrels_file_is_a_header_error(beir_copy: Path) -> None:
    (beir_copy / "qrels" / "test.tsv").write_text("", encoding="utf-8")
    with pytest.raises(BeirFormatError, match="header"):
        read_beir(beir_copy)


def test_non_utf8_file_is_named(beir_copy: Path) -> None:
    (beir_copy / "queries.jsonl").write_bytes(b'{"_id": "q1", "text": "caf\xe9"}\n')
    with pytest.raises(BeirFormatError, match=r"queries\.jsonl: not UTF-8"):
        read_beir(beir_copy)
