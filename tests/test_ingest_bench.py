"""The corpus of the sentence-method ingest benchmark: a fixed, evenly spread subset."""

from __future__ import annotations

from pathlib import Path

from bench.perf.ingest_speed import copy_corpus, pick_distractors


def test_the_distractor_subset_is_fixed_and_spread(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    for number in range(10):
        (folder / f"article_{number:02d}.txt").write_text(f"Article {number}.\n", encoding="utf-8")
    picked = [path.name for path in pick_distractors(folder, 4)]
    assert picked == ["article_00.txt", "article_02.txt", "article_05.txt", "article_07.txt"]
    assert len(pick_distractors(folder, 50)) == 10


def test_the_benchmark_corpus_is_the_seeds_plus_the_subset(tmp_path: Path, seed_corpus: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    for number in range(6):
        (folder / f"article_{number}.txt").write_text(f"Article {number}.\n", encoding="utf-8")
    corpus = copy_corpus(tmp_path / "corpus", seed_corpus, folder, 3)
    seeds = sorted(path.name for path in seed_corpus.glob("*.txt"))
    names = sorted(path.name for path in corpus.iterdir())
    assert names == sorted([*seeds, "distractor_article_0.txt", "distractor_article_2.txt",
                            "distractor_article_4.txt"])
