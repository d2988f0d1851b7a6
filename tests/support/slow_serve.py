"""``python -m tests.support.slow_serve DELAY_MS ARGS...``: ``grounded serve ARGS`` whose queries are slow.

Every ``QueryEngine.query`` in this process first sleeps ``DELAY_MS`` (the engines a reload loads
too): a stand-in for a slow stage when a test needs a query in flight in a real server process
(graceful shutdown). The product has no such knob; only this test launcher injects it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from grounded.cli import main as grounded_main
from service.engine import QueryEngine
from service.records import Query, QueryResult


def slow_down_queries(delay_s: float) -> None:
    """Make every ``QueryEngine.query`` of this process sleep ``delay_s`` first."""
    original = QueryEngine.query

    def slow_query(self: QueryEngine, query: Query, **options: Any) -> QueryResult:
        time.sleep(delay_s)
        return original(self, query, **options)

    QueryEngine.query = slow_query  # type: ignore[method-assign]


def main(argv: Sequence[str]) -> int:
    """Run ``grounded serve`` with slow queries; ``argv`` is ``DELAY_MS`` then serve's arguments."""
    slow_down_queries(int(argv[0]) / 1000)
    return grounded_main(["serve", *argv[1:]])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
