"""The HTTP routes, one module per resource, each handler a module-level function.

Each module's ``register(router)`` adds its routes to the app's own router. Not through
``include_router``: FastAPI 0.165 nests an included router as one opaque entry, and the
middlewares (metrics, keys, early refusal) match requests against the route templates in
``app.router.routes``; registering on the app's router also keeps ``app.dependency_overrides``
working for every route.
"""

from __future__ import annotations

from fastapi import APIRouter

from service.routes import admin, check, documents, health, query, web

QUERY_PATH = query.QUERY_PATH
CHECK_PATH = check.CHECK_PATH


def register_all(router: APIRouter) -> None:
    """Add every route of the service to ``router`` (the app's), in a fixed order."""
    for module in (web, health, query, check, documents, admin):
        module.register(router)
