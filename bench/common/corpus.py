"""Deterministic news-like corpora for the reliability checks, and seeded edits of them.

Sentences are drawn from news-shaped frames whose slots take invented names, places and words
from a vocabulary of a few thousand generated terms, so that texts vary like real news (few
shared word triples, so near-duplicate detection does not see the corpus as one long repeat) while
the same seed always writes the same bytes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

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


def write_corpus(folder: Path, documents: int, seed: int) -> list[Path]:
    """Write ``documents`` articles as ``news_NNNNN.txt`` into ``folder``; returns their paths."""
    writer = NewsWriter(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(documents):
        path = folder / f"news_{number:05d}.txt"
        path.write_text(writer.document(), encoding="utf-8")
        paths.append(path)
    return paths


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


def questions_from(corpus: Path, count: int, seed: int) -> list[str]:
    """``count`` questions made of 4 to 8 consecutive words of the corpus's sentences (seeded)."""
    rng = random.Random(seed)  # noqa: S311 -- seeded test data, not secrets
    sentences = [sentence for path in sorted(corpus.glob("*.txt"))
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
