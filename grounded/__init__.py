"""grounded: retrieval question answering where every passage and answer sentence cites its source.

The Python API (``grounded.api``)::

    import grounded

    index = grounded.open_index("var/index")
    response = index.ask("Who mediated the talks?", top_k=5)

``open_index``, ``ingest`` and ``Index`` are imported on first use, so ``import grounded`` (and the
``grounded`` command's start) stays light: torch and FAISS load when an index is opened.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__all__ = ["__version__"]

__version__ = "0.1.0"

if TYPE_CHECKING:
    from grounded.api import Index, IngestOptions, ingest, open_index
    from index import IngestReport
    from service import (
        Abstention,
        AnswerBody,
        AnswerCitation,
        CheckCitation,
        CheckResponse,
        DocumentDetail,
        DocumentSummary,
        EvidenceBody,
        InvalidCitationError,
        InvalidRequestError,
        PassageBody,
        PassageCitation,
        QueryResponse,
        ReasonBody,
        SentenceVerdict,
        ServiceError,
        UnknownDocumentError,
    )

_HOMES = {
    "Index": "grounded.api",
    "IngestOptions": "grounded.api",
    "ingest": "grounded.api",
    "open_index": "grounded.api",
    "IngestReport": "index.build",
    "InvalidCitationError": "service.errors",
    "InvalidRequestError": "service.errors",
    "ServiceError": "service.errors",
    "UnknownDocumentError": "service.errors",
    **{name: "service.schemas" for name in (
        "Abstention", "AnswerBody", "AnswerCitation", "CheckCitation", "CheckResponse", "DocumentDetail",
        "DocumentSummary", "EvidenceBody", "PassageBody", "PassageCitation", "QueryResponse", "ReasonBody",
        "SentenceVerdict")},
}

__all__ = [
    "Abstention", "AnswerBody", "AnswerCitation", "CheckCitation", "CheckResponse", "DocumentDetail",
    "DocumentSummary", "EvidenceBody", "Index", "IngestOptions", "IngestReport", "InvalidCitationError",
    "InvalidRequestError", "PassageBody", "PassageCitation", "QueryResponse", "ReasonBody", "SentenceVerdict",
    "ServiceError", "UnknownDocumentError", "__version__", "ingest", "open_index",
]


def __getattr__(name: str) -> object:
    """Import an exported name's module on first use (``import grounded`` loads none of them)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'grounded' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
