"""JSON Lines for harness children that report one record per line on stdout."""

from __future__ import annotations

import json
from typing import Any


def json_line(record: dict[str, Any]) -> str:
    """One record as a single JSON line (no trailing newline)."""
    return json.dumps(record)


def parse_json_lines(text: str) -> list[dict[str, Any]]:
    """Every non-empty line of ``text`` as a JSON object; a line that is not one raises ``ValueError``."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record = json.loads(line)
        if not isinstance(record, dict):
            raise ValueError(f"line {number} is not a JSON object: {line[:80]!r}")
        records.append(record)
    return records
