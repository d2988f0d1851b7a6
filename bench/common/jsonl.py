"""JSON Lines for harness children that report one record per line on stdout (read back with
``index.json_objects``, the project's one JSON Lines reader)."""

from __future__ import annotations

import json
from typing import Any


def json_line(record: dict[str, Any]) -> str:
    """One record as a single JSON line (no trailing newline)."""
    return json.dumps(record)

