"""grounded: retrieval question answering where every passage and answer sentence cites its source."""

__version__ = "0.1.0"
