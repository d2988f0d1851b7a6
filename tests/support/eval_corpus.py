"""Three one-chunk documents with disjoint vocabularies, for the eval runner and ``grounded eval`` tests.

The hashing embedder and BM25 both put the document sharing the question's words first.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

CORPUS = {
    "alpha": "Volcanoes erupt when magma rises through the crust. "
             "Lava flows cool slowly into dark basalt rock.\n",
    "beta": "Honeybees communicate with a waggle dance. "
            "The dance tells other bees where the flowers are.\n",
    "gamma": "Lighthouses guide ships at night with rotating lamps. "
             "Keepers once lived inside the stone towers.\n",
}


def write_texts(folder: Path, texts: Mapping[str, str] = CORPUS) -> Path:
    """Write each text as ``<doc_id>.txt`` into a new ``folder``; returns the folder."""
    folder.mkdir()
    for doc_id, text in texts.items():
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    return folder
