"""Service: the query engine (retrieve -> rescore -> answer) and the FastAPI app around it.

The package's public entry for code beside it (eval, harnesses): ``load_engine`` opens an index
folder with the model its manifest names, ``QueryEngine`` answers over a loaded index,
``EngineConfig`` holds its knobs. The HTTP app is ``service.app.create_app``; the wire contract is
``service.schemas``. Anything else in the package is internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.engine import EngineConfig, QueryEngine, load_engine

__all__ = ["EngineConfig", "QueryEngine", "load_engine"]


def __getattr__(name: str) -> object:
    """Load ``service.engine`` on first use: an app serving a fake engine never imports FAISS."""
    if name in __all__:
        from service import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'service' has no attribute {name!r}")
