"""Process-level edges every harness shares: progress lines, resident memory, cores obtained."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

_STARTED = time.monotonic()


def log(message: str) -> None:
    """One progress line on stderr, stamped with seconds since the benchmark process started."""
    print(f"[bench {time.monotonic() - _STARTED:8.1f}s] {message}", file=sys.stderr, flush=True)


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process in bytes, from ``/proc/<pid>/status`` (0 where unreadable)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from ``/proc/<pid>/stat``; None where unreadable.

    On a shared machine wall-clock times swing with the neighbours' load; the CPU a process needed
    to get somewhere does much less, so the harnesses report both.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
    fields = stat.rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def return_freed_memory_promptly() -> bool:
    """Make glibc serve every allocation over 128 KiB by ``mmap`` and give it back on free.

    By default glibc raises its mmap threshold after a large block is freed, so later arrays reuse
    heap pages that never return to the system and resident-memory deltas become meaningless.
    Fixing both thresholds makes ``rss_bytes`` deltas track what an index really holds. Returns
    False where the C library is not glibc.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 128 * 1024)) and bool(mallopt(_M_TRIM_THRESHOLD, 128 * 1024))


def cores_obtained(workers: int = 2, seconds: float = 1.0) -> float:
    """How many cores ``workers`` busy processes actually got over ``seconds`` (0 to ``workers``).

    The machine is shared: this probe, taken before and after a suite, says how much of the
    machine the benchmark could have had (2.0 on an idle 2-core machine).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spin = f"import time\nend = time.perf_counter() + {seconds}\nwhile time.perf_counter() < end: pass"
    started = time.perf_counter()
    children = [subprocess.Popen([sys.executable, "-S", "-c", spin]) for _ in range(workers)]
    for child in children:
        child.wait()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return round(used / wall, 2)
