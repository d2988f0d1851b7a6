"""Text analysis, the bottom layer: words, word lists, sentences and folding for comparison (pure).

``ingest``, ``index``, ``ranking`` and ``grounding`` analyse text only through this package, so a
word, a month or the end of a sentence means the same thing at every stage (tests/test_text_layer.py
checks that no other product module defines a word tokenizer or a word list of its own):

- ``text.lexicon``: stop words, months, weekdays, number words, ordinals, name links, negations.
- ``text.words``: the word tokenizers, the Snowball stemmer, initialism folding.
- ``text.sentences``: the sentence splitter and the sentence-end checks.
- ``text.normalize``: ``fold``, one spelling for comparison (NFKC, quotes, emoji).

Other packages import from this face only (``from text import split_sentences``); its names are
in ``__init__.pyi``.
"""

import lazy_loader

# The names and the submodules that define them are listed once, in ``__init__.pyi`` (read by type
# checkers too); a name's submodule is imported when the name is first used.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
