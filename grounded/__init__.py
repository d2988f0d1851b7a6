"""grounded: retrieval question answering where every passage and answer sentence cites its source.

The Python API (``grounded.api``)::

    import grounded

    index = grounded.open_index("var/index")
    response = index.ask("Who mediated the talks?", top_k=5)

The names (``open_index``, ``ingest``, ``Index`` and the response types) are listed in
``__init__.pyi`` and imported on first use, as every package's face is, so ``import grounded`` (and
the ``grounded`` command's start) stays light: torch and FAISS load when an index is opened.
"""

import lazy_loader

__version__ = "0.1.0"

__getattr__, _, __all__ = lazy_loader.attach_stub(__name__, __file__)
__all__ += ["__version__"]


def __dir__() -> list[str]:
    return list(__all__)
