"""Optional API keys, checked before routing: a query key for data routes, an admin key for changes.

Who may call what:

- ``PUBLIC`` routes (``/health``, ``/ready``, the page, the API docs) never need a key.
- ``QUERY`` routes (``/query``, ``/documents*``, ``/metrics`` unless ``metrics_public``, and any
  path that matches no route, so a new route is guarded until someone decides otherwise) need the
  query key when ``GROUNDED_API_KEY`` is set; the admin key works there too.
- ``ADMIN`` routes (``/admin/*``: state changes) need the admin key when ``GROUNDED_ADMIN_KEY`` is
  set (the query key gets 403). Without an admin key they are open only to loopback clients (after
  the query-key rule), so an operator on the machine can reload; behind a reverse proxy on the same
  machine every client looks local unless it forwards the client address, so set an admin key there.

A key travels as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Keys are compared in
constant time over their sha256 digests (equal lengths, so not even the length leaks), and are
never logged: the settings hold them as ``SecretStr`` and no message here includes a header.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable
from enum import Enum

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import ErrorCode, error_body

KEY_HOW = "send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"


class Access(Enum):
    """What a route requires."""

    PUBLIC = "public"
    QUERY = "query"
    ADMIN = "admin"


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def key_matches(presented: str | None, expected: SecretStr | None) -> bool:
    """True when both exist and are equal; constant time in the key's content."""
    if presented is None or expected is None:
        return False
    return hmac.compare_digest(_digest(presented), _digest(expected.get_secret_value()))


def presented_key(headers: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...]) -> str | None:
    """The key a request carries: a Bearer token, else ``X-API-Key``, else None."""
    bearer = None
    api_key_header = None
    for name, value in headers:
        if name == b"authorization" and bearer is None:
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                bearer = token.strip()
        elif name == b"x-api-key" and api_key_header is None:
            api_key_header = value.decode("latin-1").strip() or None
    return bearer if bearer is not None else api_key_header


def is_loopback_client(scope: Scope) -> bool:
    """True when the TCP peer is a loopback address (what uvicorn reports as the client)."""
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(str(client[0]))
    except ValueError:  # a unix socket path or a test client's made-up name
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


class AuthMiddleware:
    """Refuse requests without the key their route needs, before the body is read.

    ``access_for(scope)`` names the route's ``Access``; the refusals are 401 ``unauthorized``
    (with ``WWW-Authenticate: Bearer``) and 403 ``forbidden``, in the one error shape.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: SecretStr | None,
        admin_key: SecretStr | None,
        access_for: Callable[[Scope], Access],
    ) -> None:
        self.app = app
        self.api_key = api_key
        self.admin_key = admin_key
        self.access_for = access_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check HTTP requests; pass everything else through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, code, message, extra_headers = refusal
        body = error_body(code, message)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra_headers,
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def refusal(self, scope: Scope) -> tuple[int, str, str, list[tuple[bytes, bytes]]] | None:
        """None when the request may proceed, else (status, code, message, extra headers)."""
        access = self.access_for(scope)
        if access is Access.PUBLIC:
            return None
        key = presented_key(scope.get("headers", ()))
        is_admin = key_matches(key, self.admin_key)
        is_query = key_matches(key, self.api_key)
        if access is Access.QUERY:
            if self.api_key is None or is_query or is_admin:
                return None
            return _unauthorized(key, "this route needs the API key (GROUNDED_API_KEY)")
        if self.admin_key is not None:
            if is_admin:
                return None
            if is_query:
                return (
                    403,
                    ErrorCode.FORBIDDEN,
                    "this route changes the service and needs the admin key (GROUNDED_ADMIN_KEY); "
                    "the query key is not enough",
                    [],
                )
            return _unauthorized(key, "this route needs the admin key (GROUNDED_ADMIN_KEY)")
        if self.api_key is not None and not is_query:
            return _unauthorized(key, "this route needs the API key (GROUNDED_API_KEY)")
        if is_loopback_client(scope):
            return None
        return (
            403,
            ErrorCode.FORBIDDEN,
            "admin routes answer only loopback clients while no admin key is set; set "
            "GROUNDED_ADMIN_KEY to call them remotely, or send the server SIGHUP to reload",
            [],
        )


def _unauthorized(key: str | None, need: str) -> tuple[int, str, str, list[tuple[bytes, bytes]]]:
    """401 for a missing or wrong key; RFC 6750 names the second case ``invalid_token``."""
    if key is None:
        challenge = b'Bearer realm="grounded"'
        message = f"missing API key: {need}; {KEY_HOW}"
    else:
        challenge = b'Bearer realm="grounded", error="invalid_token"'
        message = f"the key sent is not valid: {need}; {KEY_HOW}"
    return 401, ErrorCode.UNAUTHORIZED, message, [(b"www-authenticate", challenge)]
