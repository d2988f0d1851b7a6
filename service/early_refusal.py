"""Refuse ``POST /query`` and ``POST /check`` at the outermost layer while admission control is full.

Why: with very cheap queries the refusal itself became the bottleneck. Through the whole stack
(metrics, process time, keys, body limit, routing, body parsing and validation, dependencies, the
exception handler) a 503 cost about half a millisecond of the event loop's time while the query
threads held the GIL, so requests piled up in the socket before admission control ever saw them
(docs/reliability.md, finding 6). Here the first layer reads admission's two counters and, when
every slot and queue place is taken, answers the very 503 that admission would have answered
(same body, ``Retry-After``, ``X-Process-Time-Ms``, refusal and request metrics) without reading
the body.

The check is a shortcut, never the decision: a request it lets through goes to ``Admission.run``
as before, which decides again under its lock, so a race only moves a refusal back to where it was
made before. Only a full admission short-cuts anything; otherwise the layer costs one comparison.

What clients see differently: while admission is full, a ``POST /query`` (or ``/check``: both
compute under the same admission) is refused before its key, body or filters are checked, so what
would have been a 401, 400, 413, 415, 422 or 404 is this 503 (which says only that the server is
busy). With a CORS allowlist the refusal goes through the same CORS layer as every other response,
so a page on an allowed origin can read it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from service.admission import RETRY_AFTER_SECONDS, Admission
from service.errors import ErrorCode, error_body
from service.middleware import PROCESS_TIME_HEADER
from service.observability import Metrics

_RETRY_AFTER = str(RETRY_AFTER_SECONDS).encode()


class EarlyRefusalMiddleware:
    """Answer 503 ``overloaded`` to requests matching one of ``routes`` while ``admission`` is full."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        admission: Admission,
        metrics: Metrics,
        routes: Sequence[Route],
        decorate: Callable[[ASGIApp], ASGIApp] | None = None,
    ) -> None:
        self.app = app
        self.admission = admission
        self.metrics = metrics
        self.routes = tuple(routes)
        # ``decorate`` wraps the refusal in the layers every response must pass (CORS).
        self._refusal: ASGIApp = decorate(self._refuse) if decorate is not None else self._refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse when full and the request is for one of ``routes``; pass everything else through."""
        # The cheap test first: under normal load this is the only work done here.
        if self.admission.full and scope["type"] == "http":
            for route in self.routes:
                if route.matches(scope)[0] is Match.FULL:
                    # For the metrics label; the refusal may be wrapped (CORS), so it rides in the scope.
                    scope["grounded.refused_route"] = route.path
                    await self._refusal(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        body = error_body(ErrorCode.OVERLOADED, str(self.admission.refuse()))
        headers = [
            (b"retry-after", _RETRY_AFTER),
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            (PROCESS_TIME_HEADER, b"%.2f" % ((time.perf_counter() - started) * 1000)),
        ]
        # No ``connection: close`` for the unread body (the 413 has one): uvicorn drops the rest
        # of a request once its response is complete, and a client made to reconnect would cost
        # an overloaded server more than the refusal itself.
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self.metrics.observe_request(
            method=scope["method"], route=scope["grounded.refused_route"], status=503,
            seconds=time.perf_counter() - started,
        )
