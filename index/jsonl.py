"""JSON Lines input, the one reader of the project: one JSON object per line (pure).

The index's record files, the gold set, BEIR files, training data, answers to check and the
harnesses' child reports are all read with ``json_objects``; each caller picks the error it raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast


def json_objects(lines: Iterable[str | bytes], *, source: str, error: Callable[[str], Exception] = ValueError,
                 first_line: int = 1, skip_blank: bool = True) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """``(line_number, "source:line", object)`` for each line, numbered from ``first_line``.

    Blank lines are skipped unless ``skip_blank`` is False (then they are not valid JSON). A line of
    bytes is decoded as UTF-8. Raises ``error(message)``, the message naming ``source:line``, for
    a line that is not UTF-8, not valid JSON or not a JSON object.
    """
    for line_number, line in enumerate(lines, start=first_line):
        if skip_blank and not line.strip():
            continue
        where = f"{source}:{line_number}"
        try:
            record = json.loads(line.decode("utf-8") if isinstance(line, bytes) else line)
        except UnicodeDecodeError as decode_error:
            raise error(f"{where}: not UTF-8 ({decode_error.reason})") from decode_error
        except json.JSONDecodeError as decode_error:
            raise error(f"{where}: not valid JSON ({decode_error.msg})") from decode_error
        if not isinstance(record, dict):
            raise error(f"{where}: each line must be a JSON object")
        yield line_number, where, cast(dict[str, Any], record)
