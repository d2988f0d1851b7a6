"""Request dependencies: what a handler takes from the app's state, as ``Annotated`` aliases.

Every alias reads ``request.app.state`` (filled by ``service.app.create_app``), so handlers are
plain module-level functions and a test can swap any of them with ``app.dependency_overrides``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import State

from service.admission import Admission
from service.errors import NotReadyError
from service.generation import Generation
from service.observability import Metrics
from service.reload import EngineHolder, Served
from service.settings import Settings


def current_served(state: State) -> Served:
    """The served snapshot of the app whose ``state`` this is (what one request or MCP call uses).

    Raises ``NotReadyError`` (503) until start-up has loaded and warmed the engine.
    """
    holder: EngineHolder = state.engines
    served = holder.current()
    if served is None or not state.ready:
        raise NotReadyError("the index is still loading; retry when GET /ready answers 200")
    return served


async def served_engine(request: Request) -> Served:
    """The engine snapshot this request uses throughout (a reload never changes it mid-request)."""
    return current_served(request.app.state)


async def app_metrics(request: Request) -> Metrics:
    """The app's Prometheus metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


async def app_admission(request: Request) -> Admission:
    """The app's admission control (query slots, queue, deadlines)."""
    admission: Admission = request.app.state.admission
    return admission


async def engine_holder(request: Request) -> EngineHolder:
    """The holder of the served engine (reloads go through it)."""
    holder: EngineHolder = request.app.state.engines
    return holder


async def app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def app_generation(request: Request) -> Generation:
    """The generative path's model (None when not configured) and settings."""
    generation: Generation = request.app.state.generation
    return generation


ServedDep = Annotated[Served, Depends(served_engine)]
MetricsDep = Annotated[Metrics, Depends(app_metrics)]
AdmissionDep = Annotated[Admission, Depends(app_admission)]
HolderDep = Annotated[EngineHolder, Depends(engine_holder)]
SettingsDep = Annotated[Settings, Depends(app_settings)]
GenerationDep = Annotated[Generation, Depends(app_generation)]
