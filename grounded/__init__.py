"""grounded: retrieval question answering where every passage and answer sentence cites its source."""

__all__ = ["__version__"]

__version__ = "0.1.0"
