"""Admin routes (the admin key, or loopback without one): ``POST /admin/reload``."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import HolderDep
from service.openapi import ADMIN_RESPONSES
from service.reload import ReloadResponse


def reload(holder: HolderDep) -> ReloadResponse:
    """Serve the newest published index version; queries in flight finish on the old one."""
    # Plain def: loading and warming the new version blocks, so it runs in the thread pool.
    outcome = holder.reload()
    return ReloadResponse(index_version=outcome.index_version, changed=outcome.changed)


def register(router: APIRouter) -> None:
    """Add ``POST /admin/reload`` to ``router``."""
    router.add_api_route("/admin/reload", reload, methods=["POST"], tags=["admin"], responses=ADMIN_RESPONSES)
