"""Page-furniture detection: which character ranges of a news page are not article text.

Pure, deterministic and linear in the text; the text is never rewritten. The result is a tuple of
``Region``s covering whole lines, with reasons ``furniture:<rule>``.

Line rules look at one line (and, for captions, the credit under it): ``credit``, ``caption``,
``copyright``, ``reporting-credit``, ``share-bar``, ``section-label``, ``file-name``,
``language-link``, ``nav-link``, ``inline-teaser``, ``metadata``. Range rules look further:

- ``teaser-tail``: a recirculation cue line after the article has started (a module heading such
  as "More from X", "Related ...", "Most read", or a link text such as "Read more", "Show less")
  starts a tail that runs to the end of the text when the lines up to the next cue are teaser
  cards (mostly short non-sentence lines) or share little vocabulary with the article's lead
  (lexical cohesion). A bare link text needs the stronger, cohesion-only evidence, so a stray
  "Read more" inside an article cuts nothing. The tail may grow back over the credit, caption and
  headline of the teaser card its cue closes.
- ``teaser-box``: a rejected cue followed by two or more headline-shaped lines (a related-links box
  inside the article).
- ``author-bio``: an "About the author(s)" heading up to the end or the next paragraph that is
  about the article again.

Page rules, for a document with pages (PDF): ``page-header``, ``page-footer`` and ``page-number``
(``pages``): lines at the top or bottom of a page that repeat on other pages, or are a page number.

Modules: ``vocabulary`` (the regular expressions), ``lines`` (line rules), ``cohesion`` (lexical
cohesion on the shared analysis), ``ranges`` (range rules), ``pages`` (page rules), ``detect`` (the two merged).
"""

from ingest.furniture.detect import detect_furniture
from ingest.furniture.lines import TextLine, split_lines

__all__ = ["TextLine", "detect_furniture", "split_lines"]
