"""Returning the heap's free pages after a load: safe to call, and it gives memory back."""

from __future__ import annotations

import sys

import pytest

from service import heap
from service.heap import trim_heap


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_freed_heap_pages_go_back_to_the_system() -> None:
    def resident_kib() -> int:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

    # Objects of a kilobyte come from malloc's heap (below pymalloc's and mmap's sizes); keeping
    # every hundredth alive pins the heap's top, so freeing the rest leaves ~400 MB mapped.
    objects = [bytes(1000) for _ in range(400_000)]
    kept = objects[::100]
    del objects
    before = resident_kib()
    assert trim_heap()
    assert resident_kib() < before - 100_000
    assert len(kept) == 4_000


def test_it_can_be_called_again_and_is_a_no_op_without_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    trim_heap()
    assert trim_heap() in (True, False)
    # musl, macOS: no malloc_trim to call, so nothing is returned and nothing fails.
    monkeypatch.setattr(heap, "_malloc_trim", lambda: None)
    assert trim_heap() is False
