"""A lean HTTP/1.1 client over asyncio streams: keep-alive connections, a pool, one-off calls.

Written on raw streams rather than an HTTP library because on a 2-core machine the client shares
the CPU with the server: every microsecond the client spends per request is taken from the server
being measured. Nothing here retries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

MAX_HEADER_BYTES = 64 * 1024
T = TypeVar("T")
MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """A parsed HTTP response."""

    status: int
    headers: dict[str, str]
    body: bytes


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a new event loop, uvloop's when installed: it cuts the client's CPU per
    request, and on a shared 2-core machine that is CPU the server gets back."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


class ProtocolError(Exception):
    """The server sent something that is not a well-formed HTTP/1.1 response."""


class Connection:
    """One keep-alive HTTP/1.1 connection to ``host:port``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader = reader
        self._writer = writer
        self._host = host
        self.reusable = True

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        """Connect (no retry)."""
        reader, writer = await asyncio.open_connection(host, port, limit=MAX_HEADER_BYTES)
        return cls(reader, writer, host)

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> Response:
        """Send one request and read the whole response (Content-Length or chunked bodies)."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(body)}"]
        if body:
            lines.append("Content-Type: application/json")
        lines.extend(f"{name}: {value}" for name, value in (headers or {}).items())
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self._writer.drain()
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"bad status line {status_line[:80]!r}")
        response_headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            response_headers[name.strip().lower()] = value.strip()
        if response_headers.get("transfer-encoding", "").lower() == "chunked":
            payload = await self._read_chunked()
        else:
            length = int(response_headers.get("content-length", "0"))
            if length > MAX_BODY_BYTES:
                raise ProtocolError(f"response body of {length} bytes")
            payload = await self._reader.readexactly(length)
        if response_headers.get("connection", "").lower() == "close":
            self.reusable = False
        return Response(status=int(parts[1]), headers=response_headers, body=payload)

    async def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            total += size
            if total > MAX_BODY_BYTES:
                raise ProtocolError("chunked response body too large")
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(chunks)
            chunks.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    def open_for_reuse(self) -> bool:
        """False once the server closed its side (an EOF arrived while the connection sat idle)."""
        return self.reusable and not self._reader.at_eof() and not self._writer.is_closing()

    def close(self) -> None:
        """Close the socket without waiting."""
        self.reusable = False
        self._writer.close()


IDLE_SECONDS = 3.0
"""Idle connections older than this are closed, not reused: uvicorn closes a keep-alive connection
after 5 s idle, and a request written into a connection the server is closing fails for the
client's reason, not the server's (HTTP clients discard such connections the same way)."""


class Pool:
    """Idle keep-alive connections, at most ``limit`` open at once."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self._host = host
        self._port = port
        self._idle: list[tuple[Connection, float]] = []
        self._slots = asyncio.Semaphore(limit)

    def _reusable(self) -> Connection | None:
        """The most recently used idle connection still fresh and open; stale ones are closed."""
        while self._idle:
            connection, last_used = self._idle.pop()
            if time.monotonic() - last_used < IDLE_SECONDS and connection.open_for_reuse():
                return connection
            connection.close()
        return None

    async def call(self, method: str, path: str, body: bytes, headers: dict[str, str] | None,
                   timeout: float) -> Response:
        """One request on an idle or new connection; a connection that failed is never reused."""
        async with self._slots:
            connection = self._reusable()
            if connection is None:
                connection = await asyncio.wait_for(Connection.open(self._host, self._port), timeout)
            try:
                response = await asyncio.wait_for(connection.request(method, path, body, headers), timeout)
            except BaseException:
                connection.close()
                raise
            if connection.reusable:
                self._idle.append((connection, time.monotonic()))
            else:
                connection.close()
            return response

    def close(self) -> None:
        """Close every idle connection."""
        for connection, _ in self._idle:
            connection.close()
        self._idle.clear()


def call(host: str, port: int, method: str, path: str, *, body: bytes = b"",
         headers: dict[str, str] | None = None, timeout: float = 60.0) -> Response:
    """One request on a fresh connection (for admin calls and probes from synchronous code)."""

    async def once() -> Response:
        pool = Pool(host, port, 1)
        try:
            return await pool.call(method, path, body, headers, timeout)
        finally:
            pool.close()

    return run_async(once())
