"""Run ``grounded`` with injected disk faults (a child of the reliability checks, never in-process).

``python -m bench.faults.shim [--fail-fsync-at N] [--file-size-limit BYTES] -- ARGS...`` makes
the N-th ``os.fsync`` call fail with ``EIO`` and/or caps every file the process writes at BYTES
(``RLIMIT_FSIZE``: writes past it fail with ``EFBIG``, in Python and in C libraries alike), then
runs ``python -m grounded ARGS...`` in the same process (the public entry point, not the CLI
module). On exit it prints ``fsync-calls N`` on stderr.
"""

from __future__ import annotations

import argparse
import atexit
import errno
import os
import resource
import runpy
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import HasFileno

FSYNC_COUNT_PREFIX = "fsync-calls "


def install_fsync_fault(fail_at: int) -> list[int]:
    """Wrap ``os.fsync`` to count calls and fail the ``fail_at``-th one (0: never); returns the counter."""
    real_fsync = os.fsync
    calls = [0]

    def fsync(fd: int | HasFileno) -> None:
        calls[0] += 1
        if calls[0] == fail_at:
            raise OSError(errno.EIO, f"injected fsync failure (call {fail_at})")
        real_fsync(fd)

    os.fsync = fsync
    return calls


def install_file_size_limit(limit: int) -> None:
    """Cap the size of any file this process writes; the kernel's SIGXFSZ is ignored so writes fail."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the fault options, install them, run ``grounded``."""
    parser = argparse.ArgumentParser(prog="python -m bench.faults.shim")
    parser.add_argument("--fail-fsync-at", type=int, default=0)
    parser.add_argument("--file-size-limit", type=int, default=0)
    parser.add_argument("grounded_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    calls = install_fsync_fault(args.fail_fsync_at)
    atexit.register(lambda: print(f"{FSYNC_COUNT_PREFIX}{calls[0]}", file=sys.stderr, flush=True))
    if args.file_size_limit:
        install_file_size_limit(args.file_size_limit)
    grounded_args = args.grounded_args[1:] if args.grounded_args[:1] == ["--"] else args.grounded_args
    return run_grounded(grounded_args)


def run_grounded(grounded_args: Sequence[str]) -> int:
    """Run ``python -m grounded ARGS`` in this process (the faults above stay installed); its exit status."""
    sys.argv = ["grounded", *grounded_args]
    try:
        runpy.run_module("grounded", run_name="__main__", alter_sys=True)
    except SystemExit as exit_request:
        code = exit_request.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
