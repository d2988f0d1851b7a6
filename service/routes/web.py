"""``GET /``: the single-page question box (one self-contained file, ``service/web/index.html``)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

# The product page is one self-contained file: the policy forbids every external asset.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@lru_cache(maxsize=1)
def page_html() -> str:
    """The page's HTML, read from the package once."""
    return resources.files("service").joinpath("web/index.html").read_text(encoding="utf-8")


async def product_page() -> HTMLResponse:
    """The single-page question box."""
    return HTMLResponse(page_html(), headers=PAGE_HEADERS)


def register(router: APIRouter) -> None:
    """Add the page route to ``router``."""
    router.add_api_route("/", product_page, methods=["GET"], include_in_schema=False)
