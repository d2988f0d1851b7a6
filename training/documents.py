"""Which split each training document belongs to, fixed before any model sees the data.

The rule is blind to content and to every system's results: a document's split is read off the
sha256 of ``"<corpus>:<doc_id>"`` (corpus: ``news``, ``flask``, ``git``); exact duplicates (same
text after whitespace folding) share the split of the smallest doc_id in their group, so one
article's text never sits in two splits.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Literal

Split = Literal["train", "tune", "test"]
SPLITS: tuple[Split, ...] = ("train", "tune", "test")

# Out of 100 buckets of the doc_id's sha256: 70 train, 15 tune, 15 test.
_TRAIN_BUCKETS = 70
_TUNE_BUCKETS = 15

_WHITESPACE = re.compile(r"\s+")


def split_of(corpus: str, doc_id: str) -> Split:
    """The split of one document of a corpus, from the sha256 of ``corpus:doc_id``."""
    key = f"{corpus}:{doc_id}"
    bucket = int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % 100
    if bucket < _TRAIN_BUCKETS:
        return "train"
    if bucket < _TRAIN_BUCKETS + _TUNE_BUCKETS:
        return "tune"
    return "test"


def content_key(text: str) -> str:
    """sha256 of the text with every whitespace run folded to one space: the duplicate key."""
    folded = _WHITESPACE.sub(" ", text).strip()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def assign_splits(corpus: str, texts: Mapping[str, str]) -> dict[str, Split]:
    """Split of every document of a corpus (doc_id -> text); duplicates follow their group's first id."""
    first_of_group: dict[str, str] = {}
    for doc_id in sorted(texts):
        first_of_group.setdefault(content_key(texts[doc_id]), doc_id)
    return {doc_id: split_of(corpus, first_of_group[content_key(text)]) for doc_id, text in texts.items()}


def gold_documents() -> frozenset[str]:
    """doc_ids the evaluation's gold sets draw evidence from (news and Flask): measurement only."""
    from eval import default_gold_path, load_gold, news_gold_path

    paths = [default_gold_path(), news_gold_path(), default_gold_path().with_name("gold-flask.jsonl")]
    return frozenset(doc_id for path in paths for question in load_gold(path) for doc_id in question.doc_ids)


def training_splits(corpus: str, texts: Mapping[str, str], held_out: frozenset[str]) -> dict[str, Split]:
    """``assign_splits`` less the held-out documents and every exact duplicate of one."""
    held_keys = {content_key(texts[doc_id]) for doc_id in held_out if doc_id in texts}
    return {doc_id: split for doc_id, split in assign_splits(corpus, texts).items()
            if content_key(texts[doc_id]) not in held_keys}
