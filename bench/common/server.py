"""``grounded serve`` in a child process on 127.0.0.1 for every harness: start, probe, reload, stop.

Only the process started here is ever signalled (by its own pid). The admin key is generated per
run and passed through ``GROUNDED_ADMIN_KEY``, so ``POST /admin/reload`` is exercised with the
same authentication a deployment uses.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from bench.common.http import Response, call
from bench.common.process import rss_bytes

READY_LINE = re.compile(r"ready in ([0-9.]+) ?s")
"""The server's start-up log line and the seconds it reports."""


class ServerError(Exception):
    """The server did not start, or stopped answering."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """A running ``grounded serve --index DIR`` child; use as a context manager."""

    host = "127.0.0.1"

    def __init__(self, index_dir: Path, *, cache_size: int = 0, threads: int = 1,
                 ready_timeout: float = 120.0, extra_env: dict[str, str] | None = None,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.index_dir = index_dir
        self.port = free_port()
        self.admin_key = secrets.token_urlsafe(24)
        self.lines: deque[str] = deque(maxlen=400)
        environment = {
            **os.environ,
            "GROUNDED_CACHE_SIZE": str(cache_size), "GROUNDED_THREADS": str(threads),
            "GROUNDED_ADMIN_KEY": self.admin_key,
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
            # One intra-op pool per process, sized like the request path (FACTS.md: threads).
            "OMP_NUM_THREADS": str(threads),
            **(extra_env or {}),
        }
        environment.pop("GROUNDED_API_KEY", None)
        command = [sys.executable, "-m", "grounded", "serve", "--index", str(index_dir),
                   "--host", self.host, "--port", str(self.port), *extra_args]
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, errors="replace")
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()
        self._ready_timeout = ready_timeout

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    def __enter__(self) -> Server:
        try:
            self.wait_ready(self._ready_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    def log_tail(self, count: int = 30) -> str:
        """The last lines the server printed."""
        return "\n".join(list(self.lines)[-count:])

    def request(self, method: str, path: str, *, body: bytes = b"", admin: bool = False,
                timeout: float = 60.0) -> Response:
        """One request; ``admin`` adds the admin key."""
        headers = {"Authorization": f"Bearer {self.admin_key}"} if admin else None
        return call(self.host, self.port, method, path, body=body, headers=headers, timeout=timeout)

    def ready_version(self) -> str | None:
        """``index_version`` from ``GET /ready``, or None when not ready or not reachable."""
        try:
            response = self.request("GET", "/ready", timeout=5.0)
        except (OSError, TimeoutError):
            return None
        if response.status != 200:
            return None
        version = json.loads(response.body).get("index_version")
        return version if isinstance(version, str) else None

    def wait_ready(self, timeout: float) -> str:
        """Poll ``/ready`` until it answers 200; returns the served version."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"server exited with {self.process.returncode}:\n{self.log_tail()}")
            version = self.ready_version()
            if version is not None:
                return version
            time.sleep(0.02)
        raise ServerError(f"server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def ready_report(self) -> dict[str, Any]:
        """Seconds from process start to ready (observed now, and as logged), and resident memory."""
        observed = time.perf_counter() - self.started
        time.sleep(0.2)  # let the start-up log line arrive
        ready_line = next((line for line in list(self.lines) if READY_LINE.search(line)), None)
        match = READY_LINE.search(ready_line) if ready_line else None
        return {"launcher": "grounded serve", "process_start_to_ready_s": round(observed, 3),
                "reported_ready_s": float(match.group(1)) if match else None,
                "ready_log_line": ready_line, "rss_bytes": rss_bytes(self.process.pid)}

    def reload_http(self, timeout: float = 120.0) -> Response:
        """``POST /admin/reload`` with the admin key."""
        return self.request("POST", "/admin/reload", admin=True, timeout=timeout)

    def reload_signal(self, expected: str, timeout: float = 60.0) -> bool:
        """Send SIGHUP and wait until ``/ready`` reports ``expected``; False if it never does."""
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if self.ready_version() == expected:
                return True
            time.sleep(0.02)
        return False

    def stop(self) -> int | None:
        """Terminate the child (SIGTERM, then SIGKILL after 20 s); returns its exit status."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self._reader.join(timeout=5)
        if self.process.stdout is not None and not self._reader.is_alive():
            self.process.stdout.close()  # the reader has seen its end; an open pipe would leak a descriptor
        return self.process.returncode
