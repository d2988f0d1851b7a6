"""CORS from an allowlist (off when the list is empty), with refused preflights in the error shape."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from service.errors import ErrorCode, error_body

ALLOWED_METHODS = ("GET", "POST")
ALLOWED_HEADERS = ("Content-Type", "Authorization", "X-API-Key")
EXPOSED_HEADERS = ("X-Process-Time-Ms", "Retry-After")


class AllowlistCORSMiddleware(CORSMiddleware):
    """Starlette's CORS for exactly ``origins``; a refused preflight answers 400 ``cors_rejected``.

    Starlette answers a refused preflight with plain text, the one non-JSON error body the service
    would otherwise have.
    """

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        super().__init__(
            app,
            allow_origins=list(origins),
            allow_methods=list(ALLOWED_METHODS),
            allow_headers=list(ALLOWED_HEADERS),
            expose_headers=list(EXPOSED_HEADERS),
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        """Starlette's answer, with a refusal rewritten into the error shape."""
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        # Starlette's text names only what was refused (origin, method, headers), never the values.
        refused = bytes(response.body).decode("ascii", "replace").removeprefix("Disallowed CORS ")
        headers = {
            name: value
            for name, value in response.headers.items()
            if name.lower() not in {"content-length", "content-type"}
        }
        return Response(
            error_body(
                ErrorCode.CORS_REJECTED,
                f"CORS preflight refused ({refused}); the allowed origins are set by GROUNDED_CORS_ORIGINS",
            ),
            status_code=response.status_code,
            media_type="application/json",
            headers=headers,
        )
