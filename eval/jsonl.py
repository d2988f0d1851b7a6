"""JSON Lines input for the gold set and BEIR files: one object per non-blank line (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, cast

from eval.errors import EvalError


def json_objects(lines: Iterable[str], *, source: str,
                 error: type[EvalError]) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """``(line_number, "source:line", object)`` for each non-blank line, numbered from 1.

    Raises ``error`` naming the line when it is not valid JSON or not a JSON object.
    """
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{source}:{line_number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as decode_error:
            raise error(f"{where}: not valid JSON ({decode_error.msg})") from decode_error
        if not isinstance(record, dict):
            raise error(f"{where}: each line must be a JSON object")
        yield line_number, where, cast(dict[str, Any], record)
