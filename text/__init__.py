"""Text analysis, the bottom layer: words, word lists, sentences and folding for comparison (pure).

``ingest``, ``index``, ``ranking`` and ``grounding`` analyse text only through this package, so a
word, a month or the end of a sentence means the same thing at every stage (tests/test_text_layer.py
checks that no other product module defines a word tokenizer or a word list of its own):

- ``text.lexicon``: stop words, months, weekdays, number words, ordinals, name links, negations.
- ``text.words``: the word tokenizers, the Snowball stemmer, initialism folding.
- ``text.sentences``: the sentence splitter and the sentence-end checks.
- ``text.normalize``: ``fold``, one spelling for comparison (NFKC, quotes, emoji).
"""
