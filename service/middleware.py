"""Pure ASGI middleware: a request-body size limit and an ``X-Process-Time-Ms`` response header."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import ErrorCode, error_body, shorter_body

PROCESS_TIME_HEADER = b"x-process-time-ms"


class BodyLimitMiddleware:
    """Answer 413 to any request whose body exceeds ``max_body_bytes``, reading no more than that.

    A declared ``Content-Length`` over the limit is refused before reading anything; otherwise the
    body is counted as it streams (chunked transfer encoding has no length) and reading stops at
    the first chunk that crosses the limit. A body within the limit is buffered and replayed to the
    application, which therefore never sees a partial body.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Enforce the limit for HTTP requests; pass everything else through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._refuse(send, scope)
            return
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client is gone: nobody to answer
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_body_bytes:
                await self._refuse(send, scope)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, send: Send, scope: Scope) -> None:
        body = error_body(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"the request body is larger than {self.max_body_bytes} bytes; {shorter_body(str(scope.get('path', '')))}",
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The unread rest of the body makes the connection unusable for a next request.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header as an int, or None when absent or unparseable."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server rejects malformed lengths; count the bytes instead
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the buffered body once, then defers to the real one."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class ProcessTimeMiddleware:
    """Add ``X-Process-Time-Ms``: milliseconds from receiving the request to starting the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Time HTTP requests; pass everything else through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_time(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = (time.perf_counter() - started) * 1000
                headers = [*message.get("headers", ()), (PROCESS_TIME_HEADER, b"%.2f" % elapsed_ms)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_time)
