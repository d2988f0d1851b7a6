"""Service: the query engine (retrieve -> rescore -> answer) and the FastAPI app around it.

The package's public entry for code beside it (eval, harnesses): ``load_engine`` opens an index
folder with the model its manifest names, ``QueryEngine`` answers over a loaded index,
``EngineConfig`` holds its knobs. The HTTP app is ``service.app.create_app``; the wire contract is
``service.schemas``. Anything else in the package is internal.
"""

from service.engine import EngineConfig, QueryEngine, load_engine

__all__ = ["EngineConfig", "QueryEngine", "load_engine"]
