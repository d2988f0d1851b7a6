"""``index.json_objects``, the one JSON Lines reader: numbering, blank lines, bytes and the errors."""

from __future__ import annotations

import pytest

from index import json_objects


class BadInputError(Exception):
    """The error a caller asks for."""


def test_objects_are_numbered_from_the_first_line_and_blank_lines_are_skipped() -> None:
    lines = ['{"a": 1}', "  ", '{"b": 2}']
    assert list(json_objects(lines, source="f.jsonl")) == [(1, "f.jsonl:1", {"a": 1}), (3, "f.jsonl:3", {"b": 2})]
    assert [number for number, _, _ in json_objects(lines, source="f", first_line=10)] == [10, 12]


def test_bytes_are_utf8_and_a_blank_line_can_be_an_error() -> None:
    assert list(json_objects([b'{"t": "\xc3\xa9"}'], source="f")) == [(1, "f:1", {"t": "é"})]
    with pytest.raises(BadInputError, match=r"^f:2: not valid JSON \(Expecting value\)$"):
        list(json_objects([b"{}", b""], source="f", error=BadInputError, skip_blank=False))
    with pytest.raises(BadInputError, match=r"^f:1: not UTF-8 \(invalid start byte\)$"):
        list(json_objects([b"\xff{}"], source="f", error=BadInputError))


@pytest.mark.parametrize(("line", "message"), [
    ('{"a": ', r"^f:1: not valid JSON \(Expecting value\)$"),
    ("[1, 2]", r"^f:1: each line must be a JSON object$"),
    ("3", r"^f:1: each line must be a JSON object$"),
])
def test_each_bad_line_raises_the_callers_error_naming_it(line: str, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        list(json_objects([line], source="f", error=BadInputError))
    with pytest.raises(ValueError, match=message):
        list(json_objects([line], source="f"))
