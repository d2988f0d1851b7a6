"""Ranking: everything between a question and its ranked passages plus answer, as typed stages.

``RankingPipeline`` runs ``Stage``s over a ``QueryContext`` (``default_stages`` is the served
assembly); ``RankingConfig`` holds every knob (``knobs()`` lists them with their meaning,
``with_knobs`` sets them from text). Other packages import from this face only (``from ranking
import RankingConfig``); its names are in ``__init__.pyi``. A name loads only its own module:
``RankingConfig`` loads ``ranking.config``, not numpy, so settings may import it.
"""

import lazy_loader

# The names and the submodules that define them are listed once, in ``__init__.pyi`` (read by type
# checkers too); a name's submodule is imported when the name is first used, so importing the face
# costs nothing and cannot close an import cycle.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
