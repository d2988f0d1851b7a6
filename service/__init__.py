"""Service: the query engine (retrieve -> rescore -> answer) and the FastAPI app around it.

The package's public entry for code beside it (eval, the CLI, harnesses): ``load_engine`` opens an
index folder with the model its manifest names, ``QueryEngine`` answers over a loaded index,
``EngineConfig`` holds its knobs, ``create_app`` builds the HTTP app and ``serve`` runs it; the
wire contract is ``service.schemas``. The names are in ``__init__.pyi``; anything else in the
package is internal. An app serving a fake engine never imports FAISS: names load on first use.
"""

import lazy_loader

# The names and the submodules that define them are listed once, in ``__init__.pyi`` (read by type
# checkers too); a name's submodule is imported when the name is first used, so importing the face
# costs nothing and cannot close an import cycle.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
