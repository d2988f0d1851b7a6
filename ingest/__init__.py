"""Ingestion: files -> Document -> Chunk -> vectors. Imports nothing from index/service/eval.

Other packages import from this face only (``from ingest import Chunk``); its names are in ``__init__.pyi``.
"""

import lazy_loader

# The names and the submodules that define them are listed once, in ``__init__.pyi`` (read by type
# checkers too); a name's submodule is imported when the name is first used, so importing the face
# costs nothing and cannot close an import cycle.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
