"""Training data and training commands for grounded's own models (reranker, answer reader, verifier).

The face is the three commands (``from training import verifier; verifier.main(argv)``), listed in
``__init__.pyi``; torch and the trainers load only when one runs.
"""

import lazy_loader

# The names and the submodules that define them are listed once, in ``__init__.pyi`` (read by type
# checkers too); a name's submodule is imported when the name is first used, so importing the face
# costs nothing and cannot close an import cycle.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
