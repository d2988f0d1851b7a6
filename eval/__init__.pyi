"""The face of ``eval``: the names other packages import (loaded lazily; see ``__init__.py``)."""

from .cli import run_eval
from .errors import BeirFormatError, EvalError, GoldSetError, MetricInputError
from .gold import TextAnchor, default_gold_path, load_gold, news_gold_path, resolve_span

__all__ = [
    "BeirFormatError",
    "EvalError",
    "GoldSetError",
    "MetricInputError",
    "TextAnchor",
    "default_gold_path",
    "load_gold",
    "news_gold_path",
    "resolve_span",
    "run_eval",
]
