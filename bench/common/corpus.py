"""Deterministic synthetic corpora for every harness: one module, three text models, one writer.

- ``NewsWriter`` (the reliability checks and tests): sentences from news-shaped frames whose slots
  take invented names, places and words from a few thousand generated terms, so texts vary like
  real news (few shared word triples: near-duplicate detection does not see one long repeat).
- ``BigramNews`` (ingest benchmark, full index): a word-bigram Markov chain trained on the seed
  corpus, realistic news vocabulary and sentence lengths, every sentence distinct.
- ``NewsLikeText`` (BM25 at scale): chunk-sized bags of Zipf-distributed words, in bulk.

Each model's output is byte-identical to what the recorded benchmarks in docs/bench-results used.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "pr", "r",
           "s", "st", "t", "tr", "v", "w", "z")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou")
_CODAS = ("", "", "n", "r", "l", "s", "m", "nd", "rt", "st")

_FRAMES = (
    "{person}, the {role} of {org}, said on {day} that {number} {things} had been {done} in {place}.",
    "Officials in {place} {done} {number} {things} after {event} hit the {area} on {day}.",
    "{org} expects {thing} prices to {move} by {percent} percent before {month}.",
    "According to {person}, the {event} in {place} left {number} {people} without {thing}.",
    "The {thing} near {place} reopened {time} after {number} weeks of {work}.",
    "{person} told reporters the {plan} for {place} would cost {number} million {currency}.",
    "Residents of {place} {reacted} when {org} announced {number} new {things}.",
    "A spokesperson for {org} declined to comment on the {event} at {place}.",
    "{number} {people} gathered outside the {building} in {place} to protest the {plan}.",
    "The {role} {person} {reacted} after {org} {done} the {thing} {time}.",
    "Analysts at {org} said {thing} {demand} in {place} {moved} by {percent} percent in {month}.",
    "Police in {place} said {number} {people} were questioned about the {event} on {day}.",
    "{org} and {org} signed a {deal} worth {number} million {currency} in {place}.",
    "The {building} in {place} will host {number} {people} for the {festival} in {month}.",
    "{person} won the {contest} in {place} with {number} points, ahead of {person}.",
    "Heavy {weather} delayed {number} {things} between {place} and {place} on {day}.",
    "{person}, who leads {org}, called the {plan} {judgement} and asked for {work}.",
    "Schools in {place} stayed closed {time} while crews repaired the {thing}.",
    "The {thing} built by {org} in {place} employs {number} {people}.",
    "Voters in {place} will decide on the {plan} proposed by {person} in {month}.",
)
_SLOT_WORDS = {
    "role": ("director", "mayor", "chair", "head", "minister", "spokesperson", "founder", "treasurer",
             "governor", "coach", "curator", "engineer", "inspector", "secretary"),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "month": ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"),
    "done": ("repaired", "inspected", "closed", "replaced", "counted", "moved", "sold", "seized",
             "recovered", "rebuilt", "cancelled", "approved", "delivered", "tested"),
    "move": ("rise", "fall", "climb", "drop", "recover", "stabilise"),
    "moved": ("rose", "fell", "climbed", "dropped", "recovered", "jumped", "slipped"),
    "reacted": ("protested", "celebrated", "complained", "welcomed the news", "asked questions",
                "signed a petition", "gathered", "objected"),
    "time": ("on Monday", "last week", "this morning", "overnight", "in the spring", "on Friday",
             "two days later", "at dawn", "by noon", "late on Sunday"),
    "currency": ("euros", "dollars", "pounds", "crowns", "francs", "yen", "rupees"),
    "judgement": ("reckless", "overdue", "sensible", "premature", "ambitious", "unworkable", "fair"),
    "demand": ("demand", "supply", "output", "use", "sales", "exports", "imports"),
}
_WORD_SLOTS = ("thing", "things", "event", "area", "people", "plan", "work", "building", "deal",
               "festival", "contest", "weather")
_NAME_SLOTS = ("person", "place", "org", "number", "percent")
_KNOWN_SLOTS = frozenset((*_SLOT_WORDS, *_WORD_SLOTS, *_NAME_SLOTS))
_ORG_KINDS = ("Group", "Council", "Bank", "Union", "Institute", "Holdings", "Trust")


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                   for _ in range(rng.randint(2, 3)))


@dataclass(frozen=True, slots=True, kw_only=True)
class CorpusEdit:
    """What ``edit_corpus`` changed: file names edited, added and deleted."""

    edited: tuple[str, ...]
    added: tuple[str, ...]
    deleted: tuple[str, ...]

    @property
    def count(self) -> int:
        """How many files changed."""
        return len(self.edited) + len(self.added) + len(self.deleted)


class NewsWriter:
    """Writes invented news articles; the same seed gives the same articles in the same order."""

    def __init__(self, seed: int, vocabulary: int = 3000) -> None:
        self._rng = random.Random(seed)  # noqa: S311 -- seeded test data, not secrets
        words = sorted({_pseudo_word(self._rng) for _ in range(vocabulary)})
        self._rng.shuffle(words)
        fifth = len(words) // 5
        self._names = [word.title() for word in words[:fifth]]
        self._places = [word.title() for word in words[fifth : 2 * fifth]]
        self._orgs = [f"{word.title()} {_ORG_KINDS[number % len(_ORG_KINDS)]}"
                      for number, word in enumerate(words[2 * fifth : 3 * fifth])]
        self._nouns = words[3 * fifth :]

    def _fill(self, slot: str) -> str:
        rng = self._rng
        if slot == "person":
            return f"{rng.choice(self._names)} {rng.choice(self._names)}"
        if slot == "place":
            return rng.choice(self._places)
        if slot == "org":
            return rng.choice(self._orgs)
        if slot == "number":
            return str(rng.choice((rng.randint(2, 99), rng.randint(100, 9999))))
        if slot == "percent":
            return f"{rng.randint(1, 40)}.{rng.randint(0, 9)}"
        if slot in _SLOT_WORDS:
            return rng.choice(_SLOT_WORDS[slot])
        word = rng.choice(self._nouns)
        return f"{word}s" if slot in ("things", "people") else word

    def sentence(self) -> str:
        """One sentence: a random frame with every slot filled."""
        frame = self._rng.choice(_FRAMES)
        # Each placeholder is filled independently (two {org} slots name two organisations).
        parts = frame.split("{")
        text = parts[0]
        for part in parts[1:]:
            name, rest = part.split("}", 1)
            if name not in _KNOWN_SLOTS:
                raise ValueError(f"unknown slot {name!r} in frame {frame!r}")
            text += self._fill(name) + rest
        return text[0].upper() + text[1:]

    def paragraph(self) -> str:
        """Two to five sentences."""
        return " ".join(self.sentence() for _ in range(self._rng.randint(2, 5)))

    def document(self, paragraphs: tuple[int, int] = (6, 12)) -> str:
        """A headline and a few paragraphs separated by blank lines."""
        headline = self.sentence().rstrip(".")
        body = [self.paragraph() for _ in range(self._rng.randint(*paragraphs))]
        return headline + "\n\n" + "\n\n".join(body) + "\n"

    def edit(self, text: str) -> str:
        """The text with one paragraph replaced, one appended, or one removed."""
        paragraphs = text.rstrip("\n").split("\n\n")
        choice = self._rng.randrange(3)
        if choice == 0 or len(paragraphs) < 3:
            paragraphs.append(self.paragraph())
        elif choice == 1:
            paragraphs[self._rng.randrange(1, len(paragraphs))] = self.paragraph()
        else:
            del paragraphs[self._rng.randrange(1, len(paragraphs))]
        return "\n\n".join(paragraphs) + "\n"


class ArticleWriter(Protocol):
    """Anything that writes one article at a time (``NewsWriter``, ``BigramNews``)."""

    def document(self) -> str:
        """The next article."""
        ...


def write_corpus(folder: Path, documents: int, seed: int, *,
                 writer: Callable[[int], ArticleWriter] = NewsWriter, digits: int = 5) -> list[Path]:
    """Write ``documents`` articles of ``writer(seed)`` as ``news_NNNNN.txt`` (``digits`` wide) into ``folder``."""
    articles = writer(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(documents):
        path = folder / f"news_{number:0{digits}d}.txt"
        path.write_text(articles.document(), encoding="utf-8")
        paths.append(path)
    return paths


_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")


class BigramNews:
    """Sentences from a word-bigram chain over a seed corpus (deterministic per seed)."""

    def __init__(self, corpus: Path, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self._next: defaultdict[str, list[str]] = defaultdict(list)
        self._starts: list[str] = []
        for path in sorted(corpus.glob("*.txt")):
            words = path.read_text(encoding="utf-8").split()
            for current, following in itertools.pairwise(words):
                self._next[current].append(following)
                if _SENTENCE_END.search(current) and following[:1].isupper():
                    self._starts.append(following)
        if not self._starts:
            raise ValueError(f"no sentences to learn from in {corpus}")
        self._seen: set[str] = set()

    def _pick(self, options: Sequence[str]) -> str:
        return options[int(self._rng.integers(len(options)))]

    def sentence(self, low: int = 8, high: int = 40) -> str:
        """A new distinct sentence of ``low``..``high`` words ending in a full stop or the like."""
        while True:
            words = [self._pick(self._starts)]
            while len(words) < high:
                options = self._next.get(words[-1])
                if not options or (len(words) >= low and _SENTENCE_END.search(words[-1])):
                    break
                words.append(self._pick(options))
            if not _SENTENCE_END.search(words[-1]):
                words[-1] = words[-1].rstrip(",;:") + "."
            text = " ".join(words)
            if len(words) >= low and text not in self._seen:
                self._seen.add(text)
                return text

    def document(self) -> str:
        """A headline and 8..16 paragraphs of 2..5 sentences."""
        headline = self.sentence(6, 14).rstrip(".")
        paragraphs = [" ".join(self.sentence() for _ in range(int(self._rng.integers(2, 6))))
                      for _ in range(int(self._rng.integers(8, 17)))]
        return headline + "\n\n" + "\n\n".join(paragraphs) + "\n"


def edit_corpus(folder: Path, seed: int, fraction: float = 0.03) -> CorpusEdit:
    """Edit, add and delete about ``fraction`` of the articles in ``folder`` (at least one edit).

    New articles take the next free ``news_NNNNN.txt`` number; at least half the files survive.
    """
    writer = NewsWriter(seed)
    rng = random.Random(seed)  # noqa: S311 -- seeded test data, not secrets
    paths = sorted(folder.glob("news_*.txt"))
    changes = max(1, round(len(paths) * fraction))
    edited = rng.sample(paths, min(changes, len(paths)))
    for path in edited:
        path.write_text(writer.edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    remaining = [path for path in paths if path not in edited]
    deletions = min(rng.randint(0, changes), max(0, len(paths) // 2 - len(edited)), len(remaining))
    deleted = rng.sample(remaining, deletions)
    for path in deleted:
        path.unlink()
    next_number = max((int(path.stem.removeprefix("news_")) for path in paths), default=-1) + 1
    added = []
    for offset in range(rng.randint(0, changes)):
        path = folder / f"news_{next_number + offset:05d}.txt"
        path.write_text(writer.document(), encoding="utf-8")
        added.append(path)
    return CorpusEdit(edited=tuple(path.name for path in edited),
                      added=tuple(path.name for path in added),
                      deleted=tuple(path.name for path in deleted))


def questions_from(corpus: Path, count: int, seed: int, *, files: int | None = None) -> list[str]:
    """``count`` questions made of 4 to 8 consecutive words of the corpus's sentences (seeded);
    from a seeded sample of ``files`` articles when given (a large corpus is not read whole)."""
    rng = random.Random(seed)  # noqa: S311 -- seeded test data, not secrets
    paths = sorted(corpus.glob("*.txt"))
    if files is not None:
        paths = rng.sample(paths, min(len(paths), max(1, files)))
    sentences = [sentence for path in paths
                 for sentence in path.read_text(encoding="utf-8").replace("\n", " ").split(". ")
                 if len(sentence.split()) >= 6]
    if not sentences:
        raise ValueError(f"no sentences of six words or more in {corpus}")
    questions = []
    for _ in range(count):
        words = rng.choice(sentences).split()
        length = rng.randint(4, min(8, len(words)))
        start = rng.randrange(len(words) - length + 1)
        questions.append(" ".join(words[start : start + length]).rstrip(".,") + "?")
    return questions


class NewsLikeText:
    """Zipf-distributed words: the seed corpus's words (most frequent first), then pseudo-words."""

    def __init__(self, seed_words: Sequence[str], vocabulary_size: int = 50_000,
                 exponent: float = 1.07, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        words = list(dict.fromkeys(seed_words))
        syllables = [c + v for c in "bcdfghklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]
        known = set(words)
        while len(words) < vocabulary_size:
            candidate = "".join(rng.choice(syllables, size=int(rng.integers(2, 5))))
            if candidate not in known:
                known.add(candidate)
                words.append(candidate)
        self.words = np.asarray(words[:vocabulary_size], dtype=object)
        weights = np.arange(1, vocabulary_size + 1, dtype=np.float64) ** -exponent
        self.probabilities = weights / weights.sum()

    def documents(self, count: int, rng: np.random.Generator, low: int = 60,
                  high: int = 140) -> list[str]:
        """``count`` texts of ``low..high`` words (about one chunk of news each)."""
        lengths = rng.integers(low, high + 1, size=count)
        ids = rng.choice(len(self.words), size=int(lengths.sum()), p=self.probabilities)
        tokens = self.words[ids]
        ends = np.cumsum(lengths)
        return [" ".join(tokens[end - length:end]) for end, length in zip(ends, lengths, strict=True)]

    def queries(self, count: int, rng: np.random.Generator) -> list[str]:
        """Short keyword questions of 3..7 words, skipping the 50 most frequent (function) words."""
        tail = self.probabilities[50:] / self.probabilities[50:].sum()
        return [" ".join(self.words[50 + rng.choice(len(tail), size=int(rng.integers(3, 8)), p=tail)])
                for _ in range(count)]


def seed_words(corpus: Path) -> list[str]:
    """Lower-cased words of the seed corpus, most frequent first (a realistic head of the Zipf)."""
    counts: Counter[str] = Counter()
    for path in sorted(corpus.glob("*.txt")):
        counts.update(re.findall(r"[a-z]+", path.read_text(encoding="utf-8").lower()))
    return [word for word, _ in counts.most_common()]
