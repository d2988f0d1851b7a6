"""The face of ``service``: the names other packages import (loaded lazily; see ``__init__.py``)."""

from .app import create_app
from .engine import EngineConfig, QueryEngine, load_engine
from .errors import ServiceError
from .mapping import to_response
from .records import Query, QueryResult
from .server import serve

__all__ = [
    "EngineConfig",
    "Query",
    "QueryEngine",
    "QueryResult",
    "ServiceError",
    "create_app",
    "load_engine",
    "serve",
    "to_response",
]
